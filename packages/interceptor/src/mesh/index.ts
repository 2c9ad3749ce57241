export {
  MeshAnnouncer,
  ANNOUNCE_COALESCE_MS,
  type AnnouncedState,
  type MeshAnnouncerOptions,
} from './announcer.js';
export {
  parseAnnouncement,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_ANNOUNCEMENT_FIELD,
  MIN_ANNOUNCE_PERIOD_MS,
  MAX_ANNOUNCE_PERIOD_MS,
  type MeshAnnouncement,
} from './announcement.js';
export { MESH_SUBJECT_PREFIX, MESH_ANNOUNCE_SUBJECT, MESH_GOODBYE_SUBJECT } from './subjects.js';
export { PACKAGE_VERSION } from './version.js';
export { macAnnouncement, verifyAnnouncementMac, type AnnouncementKind } from './announcement-mac.js';
export {
  meshKeyFromAuthService,
  type MeshKey,
  type MeshKeySource,
  type MeshKeyFromAuthServiceOptions,
} from './mesh-key.js';
