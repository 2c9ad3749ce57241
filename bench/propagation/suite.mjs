/** Suite placeholder until the auth and echo services land. */
export async function runPropagation() {
  throw new Error('not written yet');
}
export const propagationRows = () => [];
export const propagationTargets = () => [];
