/** One clause of the `$filter` subset the emulator understands. */
export type FilterClause =
  { kind: 'eq'; property: string; value: string } | { kind: 'any'; property: string; value: string };

const EQ = /^([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'$/i;
const ANY = /^([A-Za-z]+)\/any\(\s*(\w+)\s*:\s*\2\s+eq\s+'((?:[^']|'')*)'\s*\)$/i;

/**
 * Parses the `$filter` subset Graph callers of Agent ID use: `prop eq 'value'` and
 * `tags/any(t:t eq 'value')`, joined by `and`. Undefined for anything else (Graph answers 400).
 */
export function parseFilter(filter: string | null): FilterClause[] | undefined {
  if (filter === null || filter.trim() === '') return [];
  const clauses: FilterClause[] = [];
  for (const part of filter.trim().split(/\s+and\s+/i)) {
    const p = part.trim().replace(/^\((.*)\)$/, '$1');
    const eq = EQ.exec(p);
    if (eq?.[1] !== undefined && eq[2] !== undefined) {
      clauses.push({ kind: 'eq', property: eq[1].toLowerCase(), value: eq[2].replace(/''/g, "'") });
      continue;
    }
    const any = ANY.exec(p);
    if (any?.[1] !== undefined && any[3] !== undefined) {
      clauses.push({ kind: 'any', property: any[1].toLowerCase(), value: any[3].replace(/''/g, "'") });
      continue;
    }
    return undefined;
  }
  return clauses;
}

/** Whether an object's JSON (as Graph returns it) matches every clause (property names compared case-insensitively). */
export function matches(obj: Record<string, unknown>, clauses: readonly FilterClause[]): boolean {
  const props = new Map(Object.entries(obj).map(([k, v]) => [k.toLowerCase(), v]));
  return clauses.every((c) => {
    const v = props.get(c.property);
    if (c.kind === 'any') return Array.isArray(v) && v.some((x) => x === c.value);
    return typeof v === 'string' ? v.toLowerCase() === c.value.toLowerCase() : v === c.value;
  });
}
