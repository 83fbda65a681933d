export {
  addOperatorAndTenantAdmin,
  adminRequest as api,
  adminToken,
  basic,
  editJson,
  makeOperator,
  TILL_PASSWORD,
} from '../access-groups/support.js';
