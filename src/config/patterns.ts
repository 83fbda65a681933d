/** Name patterns shared by the main file, pipes and data files (a leaf: imports nothing). */
export const OPERATION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$';
export const TENANT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
