// Which built-in pages a node serves (spec decisions, "Built-in pages"). Pure.
// The landing page and the cluster view are always served (the cluster view's data needs the server token anyway).
// The demo room and the connection check let anyone who reaches the node mint peers, so they are served only with
// FJ_DEMO_ENABLED, which config/ turns on by default in development mode only.
import type { Mode } from '../config/config.js';

export type PageName = 'landing' | 'demo' | 'cluster' | 'check';

export interface PageAccess {
  readonly pages: ReadonlySet<PageName>;
  /** the demo peer endpoint: on exactly when /demo and /check are served */
  readonly demoEndpoint: boolean;
  /**
   * The cluster view may pre-fill the token only when it is the well-known development default ("development", printed
   * in the README and the start-up warning): a token the operator chose never reaches a page.
   */
  readonly prefillDevelopmentToken: boolean;
  /**
   * The public page info names the node (its name carries the pod's address) and the exact version only in development
   * mode: in production anyone who reaches the port would learn internal addresses and which release to attack.
   */
  readonly discloseNode: boolean;
}

export const DEVELOPMENT_TOKEN = 'development';

export function pageAccess(mode: Mode, demoEnabled: boolean, serverApiToken: string): PageAccess {
  const pages = new Set<PageName>(['landing', 'cluster']);
  if (demoEnabled) {
    pages.add('demo');
    pages.add('check');
  }
  return {
    pages,
    demoEndpoint: demoEnabled,
    prefillDevelopmentToken: mode === 'development' && serverApiToken === DEVELOPMENT_TOKEN,
    discloseNode: mode === 'development',
  };
}
