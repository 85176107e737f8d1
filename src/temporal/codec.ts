/**
 * Encryption of workflow data: every payload the client or the worker sends to Temporal (case
 * input, updates, query answers, activity arguments, summaries, failure messages) is sealed with
 * AES-256-GCM before it leaves the process, so Temporal's database and Web UI hold ciphertext.
 *
 * Each payload gets a fresh 96-bit IV; its metadata names the key, so keys rotate: the first key
 * in PAYLOAD_KEYS encrypts, every listed key still decrypts. Payloads that were never encrypted
 * pass through on decode (histories from before encryption was turned on stay readable), except
 * in a production worker, which refuses them: whoever reaches Temporal without PAYLOAD_KEYS
 * must not be able to start a case or drive one with an update.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { NamedKey } from '../keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
/**
 * What a refused (unencrypted) payload becomes. No payload converter knows this encoding, so the
 * value fails to convert where it is used: an update is rejected with this name in its error, a
 * workflow start fails its workflow task (and retries harmlessly) instead of running.
 */
export const REFUSED_ENCODING = 'refused/not-encrypted-with-PAYLOAD_KEYS';

export interface CodecOptions {
  /** Turn unencrypted payloads into refused ones on decode (a production worker). */
  refuseUnencrypted?: boolean;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, NamedKey>;

  constructor(
    private readonly keys: readonly NamedKey[],
    private readonly options: CodecOptions = {},
  ) {
    if (keys.length === 0) throw new Error('AesGcmPayloadCodec needs a key');
    this.byId = new Map(keys.map((k) => [k.id, k]));
  }

  /** The id of the key that encrypts new payloads. */
  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys[0]!;
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key.key, iv);
      cipher.setAAD(Buffer.from(key.id));
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: encoder.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: encoder.encode(key.id) },
        data: new Uint8Array(data),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!isEncrypted(payload)) return this.options.refuseUnencrypted ? refused() : payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const keyId = idBytes ? decoder.decode(idBytes) : '';
      const key = this.byId.get(keyId);
      if (!key)
        throw new PayloadDecryptionError(`No payload key with id "${keyId.slice(0, 16)}" is configured (PAYLOAD_KEYS)`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('Encrypted payload is too short');
      let plain: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(key.id));
        decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadDecryptionError(`Encrypted payload did not verify under key "${key.id}"`);
      }
      const decoded = temporal.api.common.v1.Payload.decode(plain);
      return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
    });
  }
}

/** Carries nothing of the refused payload: its content is never looked at, logged or echoed. */
function refused(): Payload {
  return { metadata: { encoding: encoder.encode(REFUSED_ENCODING) }, data: new Uint8Array() };
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && decoder.decode(encoding) === ENCRYPTED_ENCODING;
}

/**
 * Module exporting `failureConverter` with encodeCommonAttributes: failure messages and stack
 * traces (which can quote case data) travel as a payload, so the codec encrypts them too. It is
 * loaded by path because the workflow sandbox bundles it.
 */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The data converter of every Client and Worker of this app. A Worker given a prebuilt workflow
 * bundle needs that bundle built with `failureConverterPath: FAILURE_CONVERTER_PATH` too.
 */
export function encryptedDataConverter(keys: readonly NamedKey[], options: CodecOptions = {}): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(keys, options)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
