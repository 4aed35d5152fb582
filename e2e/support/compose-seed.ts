// The two compose files of the seed's "Running with Docker" sections (docs: fishjam-cluster.md), verbatim. They must
// work unchanged when saved at the repository root (`build: .`); examples/docker-compose/ holds copies whose only
// change is the build context (`build: ../..`), which the compose e2e test checks against these.

export const SEED_NODES_LIST = `version: "3"

x-fishjam-template: &fishjam-template
  build: .
  environment: &fishjam-environment
    FJ_SERVER_API_TOKEN: "development"
    FJ_DIST_ENABLED: "true"
    FJ_DIST_NODES: "f1@fishjam1 f2@fishjam2"
  restart: on-failure

services:
  fishjam1:
    <<: *fishjam-template
    environment:
      <<: *fishjam-environment
      FJ_HOST: "localhost:5001"
      FJ_PORT: 5001
      FJ_METRICS_PORT: 6001
      FJ_DIST_NODE_NAME: f1@fishjam1
    ports:
      - 5001:5001
      - 6001:6001

  fishjam2:
    <<: *fishjam-template
    environment:
      <<: *fishjam-environment
      FJ_HOST: "localhost:5002"
      FJ_PORT: 5002
      FJ_METRICS_PORT: 6002
      FJ_DIST_NODE_NAME: f2@fishjam2
    ports:
      - 5002:5002
      - 6002:6002
`;

export const SEED_DNS = `version: "3"
x-fishjam-template: &fishjam-template
  build: .
  environment: &fishjam-environment
    FJ_SERVER_API_TOKEN: "development"
    FJ_DIST_ENABLED: "true"
    FJ_DIST_STRATEGY_NAME: "DNS"
    FJ_DIST_MODE: "name"
  restart: on-failure
services:
  app1:
    <<: *fishjam-template
    environment:
      <<: *fishjam-environment
      FJ_HOST: "localhost:4001"
      FJ_PORT: 4001
      FJ_DIST_QUERY: app.dns-network
    ports:
      - 4001:4001
    networks:
      default:
        aliases:
          - app.dns-network

  app2:
    <<: *fishjam-template
    environment:
      <<: *fishjam-environment
      FJ_HOST: "localhost:4002"
      FJ_PORT: 4002
      FJ_DIST_QUERY: app.dns-network
    ports:
      - 4002:4002
    networks:
      default:
        aliases:
          - app.dns-network
`;

/** The text without its `build:` lines (the one change the examples make). */
export function withoutBuildLine(text: string): string {
  return text.split('\n').filter((l) => !/^\s+build:/.test(l)).join('\n').trim();
}
