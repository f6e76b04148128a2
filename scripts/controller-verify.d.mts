export interface VerifiedCommand {
  operation_id: number;
  machine_id: number;
  command: string;
}
export type Verdict = { status: 401; reason: string } | { status: 200; duplicate: boolean; command: VerifiedCommand };
export function commandVerifier(secrets: string[]): { check(rawBody: string, headers: Record<string, string>): Verdict };
