export {
  parseClientOffer,
  type ClientOffer,
  type MediaDirection,
  type OfferMLine,
  type ParseOfferOptions,
} from './client-offer.js';
export { buildAnswer, payloadTypeMismatches, type AnswerInput, type MLineDecision } from './answer.js';
export type { ExtensionIdPolicy } from './producer-parameters.js';
export type { SdpResult } from './sdp-result.js';
