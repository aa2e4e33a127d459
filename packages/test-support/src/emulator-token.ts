import type { Emulator } from '@agentid/emulator';

/** Posts a form to the emulator's token endpoint in-process and returns status + JSON body. */
export async function postToken(
  emu: Emulator,
  tenant: string,
  fields: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await emu.fetch(`${emu.baseUrl}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Decodes a JWT's payload without verifying it. */
export const claimsOf = (jwt: unknown): Record<string, unknown> =>
  JSON.parse(Buffer.from(String(jwt).split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

/** The AADSTS code of an error body. */
export const aadsts = (body: Record<string, unknown>): number | undefined =>
  Array.isArray(body.error_codes) ? (body.error_codes[0] as number) : undefined;
