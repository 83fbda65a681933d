export { adminRequest as api, adminToken, basic, editJson, readJson, TILL_PASSWORD } from '../access-groups/support.js';
