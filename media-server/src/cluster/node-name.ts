// Distribution node names, `<name>@<host>`, with Erlang's sname/name rules. Pure.
export interface NodeName {
  readonly name: string;
  readonly host: string;
  readonly full: string;
}

export function parseNodeName(text: string): NodeName | undefined {
  const match = /^([A-Za-z0-9_-]+)@([^@\s]+)$/.exec(text);
  if (!match) return undefined;
  return { name: match[1]!, host: match[2]!, full: text };
}

/** For the DNS strategy a node is known by its IP: `fishjam@app.svc` becomes `fishjam@10.0.0.7`. */
export function withHost(node: NodeName, host: string): NodeName {
  return { name: node.name, host, full: `${node.name}@${host}` };
}
