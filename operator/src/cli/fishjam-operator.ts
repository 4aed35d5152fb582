// Entry of the `fishjam-operator` bin (compiled to dist/cli/fishjam-operator.js for the image).
import { main } from './main.js';

main();
