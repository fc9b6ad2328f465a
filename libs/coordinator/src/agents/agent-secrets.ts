import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { HiveConfig } from '@hive/config';
import { AgentStore } from '@hive/database';
import { SecretKeyMissingError } from '../errors/coordinator-errors.js';

const SECRET_KEY_FILE = 'secret-key';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A key file shorter than this was not written by Hive (or not whole): it is refused, not used. */
const MIN_SECRET_LENGTH = 32;

/**
 * Agents' API keys, encrypted at rest with AES-256-GCM under a key derived from HIVE_SECRET_KEY (HKDF-SHA256); the
 * agent's id is the associated data, so a ciphertext copied onto another agent does not decrypt. Stored as
 * `v1.<iv>.<tag>.<ciphertext>` (base64url). Outside production without HIVE_SECRET_KEY, a random one is made on first
 * need and kept in HIVE_DATA_DIR (readable by its owner only); in production it is required once a key is stored.
 */
@Injectable()
export class AgentSecrets implements OnApplicationBootstrap {
  private readonly logger = new Logger('AgentSecrets');
  private key: Promise<Buffer> | undefined;

  constructor(
    private readonly config: HiveConfig,
    private readonly agents: AgentStore,
  ) {}

  /** In production, agents with stored keys and no HIVE_SECRET_KEY to read them: refuse to start. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.nodeEnv !== 'production' || this.config.security.secretKey !== undefined) return;
    if (await this.agents.hasStoredKeys()) {
      throw new Error('HIVE_SECRET_KEY must be set: agents have API keys stored, encrypted under it');
    }
  }

  async encrypt(agentId: string, plain: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', await this.secretKey(), iv).setAAD(Buffer.from(agentId));
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), sealed]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** The key in clear; throws when it was not encrypted for this agent under the current HIVE_SECRET_KEY. */
  async decrypt(agentId: string, stored: string): Promise<string> {
    const [version, iv, tag, sealed] = stored.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || sealed === undefined) {
      throw new Error('the stored API key is not in a format Hive knows');
    }
    const decipher = createDecipheriv('aes-256-gcm', await this.secretKey(), Buffer.from(iv, 'base64url'), {
      authTagLength: TAG_BYTES,
    })
      .setAAD(Buffer.from(agentId))
      .setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8');
  }

  private secretKey(): Promise<Buffer> {
    if (this.key === undefined) {
      const key = this.secret().then((secret) => Buffer.from(hkdfSync('sha256', secret, 'hive', 'agent api keys', 32)));
      // A failed attempt (no key in production, an unwritable data folder) is tried again next time.
      key.catch(() => (this.key = undefined));
      this.key = key;
    }
    return this.key;
  }

  private async secret(): Promise<string> {
    const configured = this.config.security.secretKey;
    if (configured !== undefined) return configured;
    if (this.config.nodeEnv === 'production') throw new SecretKeyMissingError();
    const dir = resolve(this.config.database.dataDir);
    const file = join(dir, SECRET_KEY_FILE);
    if (existsSync(file)) return readSecret(file);
    await mkdir(dir, { recursive: true, mode: 0o711 });
    // Written whole under another name, then linked into place: a replica on the same folder reads all of it or
    // none, and the first link wins.
    const secret = randomBytes(32).toString('base64url');
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(draft, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(draft, file);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EEXIST') return readSecret(file);
      throw error;
    } finally {
      await unlink(draft);
    }
    this.logger.warn(
      `Made a key to encrypt agents' API keys, kept in ${file}; set HIVE_SECRET_KEY to choose it (required in production)`,
    );
    return secret;
  }
}

/** The key file's secret; a file too short to be one of Hive's is refused. */
async function readSecret(file: string): Promise<string> {
  const secret = (await readFile(file, 'utf8')).trim();
  if (secret.length < MIN_SECRET_LENGTH)
    throw new Error(`${file} does not hold a key (fewer than ${MIN_SECRET_LENGTH} characters)`);
  return secret;
}
