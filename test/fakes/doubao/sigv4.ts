/**
 * The fake's check of AWS Signature V4 on ImageX calls: the request is signed again with `aws4` using the secret
 * the fake issued for the access key, over exactly the headers the client says it signed, and the signatures
 * must match. A wrong secret, a changed body, query or header all fail.
 */
import type { IncomingMessage } from 'node:http';
import aws4 from 'aws4';

export interface IssuedCredentials {
  secretAccessKey: string;
  sessionToken: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/** Returns null when the signature is right, else why it is not. */
export function sigV4Problem(
  req: IncomingMessage,
  body: string,
  issued: ReadonlyMap<string, IssuedCredentials>,
): string | null {
  const match = AUTHORIZATION.exec(String(req.headers.authorization ?? ''));
  if (!match) return 'missing or malformed SigV4 authorization';
  const [, accessKeyId, , region, service, signedHeaders, signature] = match as unknown as string[];
  const credentials = issued.get(accessKeyId!);
  if (!credentials) return 'unknown access key';
  if (region !== 'cn-north-1' || service !== 'imagex') return `wrong scope ${region}/${service}`;
  if (req.headers['x-amz-security-token'] !== credentials.sessionToken) return 'wrong security token';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!Number.isFinite(signedAt) || Math.abs(Date.now() - signedAt) > 15 * 60_000) return 'stale or missing x-amz-date';
  const names = signedHeaders!.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-security-token']) {
    if (!names.includes(required)) return `${required} is not signed`;
  }
  const headers = Object.fromEntries(names.map((name) => [name, String(req.headers[name] ?? '')]));
  const again = aws4.sign(
    { host: headers.host, path: req.url, method: req.method, service, region, headers, ...(body && { body }) },
    { accessKeyId: accessKeyId!, ...credentials },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(again.headers?.Authorization))?.[1];
  return expected === signature ? null : 'SignatureDoesNotMatch';
}
