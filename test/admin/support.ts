export { adminRequest as api, adminToken, basic, editJson, TILL_PASSWORD } from '../access-groups/support.js';
