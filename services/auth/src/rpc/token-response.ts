import type { TokenResponse } from '@authmesh/interceptor/proto';
import type { MintedToken } from '../tokens/minter.types.js';

/** A TokenResponse for a minted access token and, for sessions, its refresh token. */
export function tokenResponse(
  minted: MintedToken,
  scope: readonly string[],
  refresh?: { refreshToken: string; refreshExpiresIn: number },
): TokenResponse {
  return {
    access_token: minted.token,
    token_type: 'Bearer',
    expires_in: minted.exp - minted.iat,
    refresh_token: refresh?.refreshToken ?? '',
    refresh_expires_in: refresh?.refreshExpiresIn ?? 0,
    scope: scope.join(' '),
  };
}
