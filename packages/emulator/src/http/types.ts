/** A request as every transport hands it to the emulator (socket server or in-process fetch). */
export interface EmuRequest {
  method: string;
  url: URL;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: string;
}

/** What the emulator answers; `drop` closes the connection without a response. */
export interface EmuResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  drop?: boolean;
  /** Wait this long before answering (fault injection). */
  delayMs?: number;
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): EmuResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  body: JSON.stringify(body),
});
