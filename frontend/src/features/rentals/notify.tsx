/**
 * Opt-in browser notifications: once per rental, when a pay-as-you-go or hourly rental has less than
 * an hour of funds left. The choice is remembered in this browser; the browser asks for permission.
 */
import { Plan } from "@kaisar/offchain/src/rentalMath";
import { useEffect, useRef, useState } from "react";

import { formatDuration } from "../../lib/format";
import { LOW_BALANCE_SECONDS } from "../../lib/rentalView";
import type { RentalRow } from "../../data/rentals";

const KEY = "kaisar.notifyLowBalance";

const supported = () => typeof Notification !== "undefined";

export function LowBalanceNotices({ rentals, now }: { rentals: RentalRow[]; now: number }) {
  const [on, setOn] = useState(
    () => supported() && localStorage.getItem(KEY) === "1" && Notification.permission === "granted",
  );
  const [note, setNote] = useState("");
  const told = useRef(new Set<string>());
  useEffect(() => {
    if (!on) return;
    for (const r of rentals) {
      const left = Number(r.paidUntil) - now;
      const id = String(r.rentalId);
      if (r.rental.plan === Plan.Saving || left <= 0 || left >= LOW_BALANCE_SECONDS || told.current.has(id)) continue;
      told.current.add(id);
      new Notification(`Rental #${id}: ${formatDuration(left)} of funds left`, {
        body: `Node #${r.rental.nodeId}: top up before the funds run out, or the workload pauses.`,
        tag: `kaisar-low-${id}`,
      });
    }
  }, [on, rentals, now]);
  if (!supported()) return null;
  const toggle = async () => {
    if (on) {
      localStorage.removeItem(KEY);
      setOn(false);
      setNote("");
      return;
    }
    const permission = await Notification.requestPermission();
    if (permission === "granted") {
      localStorage.setItem(KEY, "1");
      setOn(true);
      setNote("");
    } else setNote("The browser refused notifications: allow them for this site in its settings, then try again.");
  };
  return (
    <p className="small muted">
      <label className="check">
        <input type="checkbox" checked={on} onChange={toggle} data-testid="notify-low" /> Notify me when a rental has
        less than an hour of funds left
      </label>
      {note && <span className="error"> {note}</span>}
    </p>
  );
}
