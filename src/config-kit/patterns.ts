/** Name patterns shared by several schemas (kept apart so that schemas can import each other's without a cycle). */
export const OPERATION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$';
export const TENANT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
