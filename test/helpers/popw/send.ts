/**
 * Sending one step of the PoPW walk (`../walk/send.ts`), with its own outcome counts.
 */
import { sender } from "../walk/send";

/** Outcome counts per action (`KAISAR_FC_STATS=1` prints them): shows what the generators reach. */
export const outcomeStats = new Map<string, number>();
export const { note, send } = sender(outcomeStats);
export const PLAN_NAMES = ["PAYG", "Hourly", "Saving"];
