import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { generateApiKey } from './api-key-format.js';
import { ApiKeyService } from './api-key.service.js';

const ADMIN_KEY_FILE = 'admin-api-key';

/**
 * Outside production, without HIVE_ADMIN_API_KEY, Hive makes an admin key on first start, prints it once and keeps
 * it in HIVE_DATA_DIR (readable by the owner only), so a new user can call the API at once. No default password
 * exists anywhere.
 */
@Injectable()
export class AdminKeyBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminKey');

  constructor(
    private readonly config: HiveConfig,
    private readonly keys: ApiKeyService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.security.adminApiKey !== undefined || this.config.nodeEnv === 'production') return;
    const dir = resolve(this.config.database.dataDir);
    const file = join(dir, ADMIN_KEY_FILE);
    if (existsSync(file)) {
      const key = (await readFile(file, 'utf8')).trim();
      if (await this.keys.adopt(key, 'bootstrap admin', 'admin'))
        this.logger.log(`Admin API key from ${file} registered`);
      return;
    }
    const key = generateApiKey();
    await mkdir(dir, { recursive: true, mode: 0o711 });
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    await this.keys.adopt(key, 'bootstrap admin', 'admin');
    this.logger.warn(`Created the first admin API key (shown once, also saved to ${file}): ${key}`);
  }
}
