import { randomBytes } from "node:crypto";
import { encryptSecret, keyedHash, randomToken } from "@/lib/crypto/secrets";

// What a handle's secrets look like and where their encrypted copies are bound. The token is
// what the agent gets as `taskId`: 256 random bits behind a prefix that secret scanners can match.

export const HANDLE_TOKEN_PREFIX = "tht_";
export const HANDLE_TOKEN_PATTERN = /^tht_[A-Za-z0-9_-]{43}$/;

export function newHandleToken(): string {
  return `${HANDLE_TOKEN_PREFIX}${randomToken(32)}`;
}

/** The public accessor id reviewers see: 80 random bits, unrelated to the token. */
export function newAccessor(): string {
  return `hdl_${randomBytes(10).toString("hex")}`;
}

export function handleTokenHash(token: string): string {
  return keyedHash("handle-token", token);
}

export const handleTokenContext = (handleId: string) => `handle-token:${handleId}`;
export const upstreamTaskContext = (handleId: string) => `upstream-task:${handleId}`;

/** How an upstream message's task id is matched to its handle without storing the id in clear. */
export function upstreamTaskIdHash(serverId: string, upstreamTaskId: string): string {
  return keyedHash("upstream-task", `${serverId}\0${upstreamTaskId}`);
}

export function encryptHandleToken(handleId: string, token: string): string {
  return encryptSecret(token, handleTokenContext(handleId));
}
