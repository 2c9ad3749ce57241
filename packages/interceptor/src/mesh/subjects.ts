/** Subjects of the mesh's own traffic: interceptor instances announce themselves under `authmesh.mesh.>`. */
export const MESH_SUBJECT_PREFIX = 'authmesh.mesh.';
/** Periodic and after-apply announcements of an instance (JSON {@link MeshAnnouncement}). */
export const MESH_ANNOUNCE_SUBJECT = 'authmesh.mesh.announce';
/** Sent once when an instance closes (same payload), so it leaves the live set at once. */
export const MESH_GOODBYE_SUBJECT = 'authmesh.mesh.goodbye';
