/**
 * Lists of symmetric keys from the environment: `keyId:base64[,keyId:base64...]`, each key 32
 * bytes. The first key seals or encrypts; every listed key still opens, so keys rotate by
 * putting a new one first and dropping the old one once nothing sealed with it is still needed.
 */
export interface NamedKey {
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9]{1,16}$/;

export function parseKeyList(spec: string): NamedKey[] {
  const keys = spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [id, b64, ...rest] = part.split(':');
      if (!id || !b64 || rest.length > 0 || !KEY_ID.test(id)) throw new Error('each entry must be keyId:base64key');
      const key = Buffer.from(b64, 'base64');
      if (key.length !== 32) throw new Error(`key ${id} must be 32 bytes of base64`);
      return { id, key };
    });
  if (keys.length === 0) throw new Error('at least one key is required');
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new Error('each key id must be used once');
  return keys;
}
