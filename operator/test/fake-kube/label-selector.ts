// Label selector strings as the API server accepts them: "a=b", "a==b", "a!=b", "a", "!a", "a in (x,y)", "a notin (x)".
export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

export function parseLabelSelector(selector: string | null | undefined): LabelMatcher {
  if (!selector) return () => true;
  const tests = splitTopLevel(selector).map((req): LabelMatcher => {
    let m: RegExpExecArray | null;
    if ((m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(req))) {
      const [, key, op, value] = m;
      return (l) => (op === '!=' ? l?.[key!] !== value : l?.[key!] === value);
    }
    if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req))) {
      const [, key, op, list] = m;
      const values = list!.split(',').map((v) => v.trim());
      return (l) => (op === 'in' ? values.includes(l?.[key!] ?? '\0') : !values.includes(l?.[key!] ?? '\0'));
    }
    if ((m = /^!(\S+)$/.exec(req))) {
      const key = m[1]!;
      return (l) => l?.[key] === undefined;
    }
    const key = req;
    return (l) => l?.[key] !== undefined;
  });
  return (labels) => tests.every((t) => t(labels));
}
