/** Suite placeholder until the auth and echo services land. */
export async function runIssuance() {
  throw new Error('not written yet');
}
export const issuanceRows = () => [];
export const issuanceTargets = () => [];
