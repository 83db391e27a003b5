import type { KeyObject } from "node:crypto";

export type TJson = null | boolean | number | string | TJson[] | { [key: string]: TJson };

/** What is sealed at a position: the audit event as plain JSON (see lib/audit/to-chain-event.ts). */
export type TChainEvent = { [key: string]: TJson };
export type TChainRecord = { v: 1; position: string; prevHash: string; event: TChainEvent };
export type TChainEntry = { position: string | bigint; prevHash: string; hash: string; event: TChainEvent };
export type TCheckpointStatement = { v: 1; type: "tether.audit.checkpoint"; position: string; hash: string; createdAt: string; keyId: string };
export type TCheckpoint = { position: string | bigint; hash: string; createdAt: string; keyId: string; signature: string };
export type TVerifyFailureReason =
  | "reordered"
  | "missing_event"
  | "broken_link"
  | "changed_event"
  | "changed_hash"
  | "bad_checkpoint_signature"
  | "checkpoint_mismatch"
  | "unanchored"
  | "unsealed_event";
export type TVerifyFailure = { position: string; reason: TVerifyFailureReason; detail: string };
export type TVerifyResult = {
  ok: boolean;
  events: number;
  checkpoints: number;
  firstPosition: string | null;
  lastPosition: string | null;
  lastHash: string | null;
  firstCheckpoint: { position: string; hash: string } | null;
  lastCheckpoint: { position: string; hash: string } | null;
  failure: TVerifyFailure | null;
};

export const CHAIN_VERSION: 1;
export const GENESIS_HASH: string;
export const CHECKPOINT_TYPE: "tether.audit.checkpoint";
export function canonicalJson(value: unknown): string;
export function canonicalBytes(value: unknown): Buffer;
export function sha256Hex(bytes: Buffer | Uint8Array | string): string;
export function chainRecord(position: string | bigint | number, prevHash: string, event: TChainEvent): TChainRecord;
export function hashRecord(record: TChainRecord): string;
export function hashChainEntry(position: string | bigint | number, prevHash: string, event: TChainEvent): string;
export function keyIdOf(publicKey: KeyObject | string): string;
export function checkpointStatement(cp: { position: string | bigint; hash: string; createdAt: string; keyId: string }): TCheckpointStatement;
export function signCheckpoint(statement: TCheckpointStatement, privateKey: KeyObject): string;
export function verifyCheckpointSignature(statement: TCheckpointStatement, signature: string, publicKey: KeyObject): boolean;
export class ChainVerifier {
  constructor(options?: { publicKey?: KeyObject | string; publicKeys?: Array<KeyObject | string>; startPosition?: bigint; startPrevHash?: string });
  failure: TVerifyFailure | null;
  lastHash: string | null;
  lastPosition: bigint;
  fail(position: string | bigint, reason: TVerifyFailureReason, detail: string): false;
  addEvent(entry: TChainEntry): boolean;
  addCheckpoint(cp: TCheckpoint): boolean;
  finish(): TVerifyResult;
}
