import { SetMetadata } from '@nestjs/common';
import type { ApiKeyRole } from '@hive/database';

const RANK: Record<ApiKeyRole, number> = { viewer: 1, operator: 2, admin: 3 };

/** admin can do everything, operator submits, cancels and reads tasks, viewer only reads. */
export function roleAllows(role: ApiKeyRole, required: ApiKeyRole): boolean {
  return RANK[role] >= RANK[required];
}

export const REQUIRED_ROLE = 'hive:required-role';

/**
 * The least role a route needs. Without it, reads (GET) need `viewer` and every other method `admin`, so a new
 * route is closed until someone decides otherwise.
 */
export const RequireRole = (role: ApiKeyRole) => SetMetadata(REQUIRED_ROLE, role);

export interface Principal {
  keyId: string;
  name: string;
  role: ApiKeyRole;
}
