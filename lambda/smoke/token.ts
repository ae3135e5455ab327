/**
 * What counts as a usable smoke token, for the Lambda (which reads the stage's secret) and for
 * `sfdeploy smoke --token-secret` alike: one rule, so the operator's run and the deploy gate agree on a secret.
 */
import { SMOKE_TOKEN_PLACEHOLDER } from './env';
import { SHARED_TEST_TOKENS } from './spec';

const SHARED = new Set<string>(Object.values(SHARED_TEST_TOKENS));

/** A usable token, or why there is none. */
export type TokenLookup =
  | { readonly token: string; readonly problem?: undefined }
  | { readonly token?: undefined; readonly problem: string };

/**
 * The secret holds the token itself, or JSON with a `token` field (the shape a rotation Lambda tends to write).
 * Not usable: an empty value, the placeholder the stack writes at create, JSON without a token, and SoftFactory's
 * shared test-mode tokens (anyone may send those; production mode refuses them).
 */
export function tokenFromSecret(secretString: string | undefined): TokenLookup {
  let text = secretString?.trim() ?? '';
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { problem: 'the secret looks like JSON but does not parse' };
    }
    const token = (parsed as { token?: unknown }).token;
    if (typeof token !== 'string' || token.trim() === '') {
      return { problem: 'the secret is JSON without a non-empty "token" field' };
    }
    text = token.trim();
  }
  if (text === '') return { problem: 'the secret is empty' };
  if (text === SMOKE_TOKEN_PLACEHOLDER) return { problem: 'the secret still holds the placeholder the stack created' };
  if (SHARED.has(text)) {
    return {
      problem: `the secret holds SoftFactory's shared test-mode token ${text}, not the smoke user's own token`,
    };
  }
  return { token: text };
}
