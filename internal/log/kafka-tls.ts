import type { TlsFiles } from '../config/connection-security.js';
import { readSecretFile } from '../config/secret-file.js';

/** Node's TLS options towards the Kafka brokers, whichever client: verified, the files read now. */
export function kafkaTlsOptions(t: TlsFiles): { ca?: string[]; cert?: string; key?: string; rejectUnauthorized: true } {
  return {
    rejectUnauthorized: true,
    ...(t.caFile ? { ca: [readSecretFile(t.caFile, 'KAFKA_TLS_CA_FILE')] } : {}),
    ...(t.certFile ? { cert: readSecretFile(t.certFile, 'KAFKA_TLS_CERT_FILE') } : {}),
    ...(t.keyFile ? { key: readSecretFile(t.keyFile, 'KAFKA_TLS_KEY_FILE') } : {}),
  };
}
