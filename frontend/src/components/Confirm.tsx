/**
 * A confirmation before a destructive transaction: what the person gets and what they lose, in exact
 * amounts, with "Cancel" focused first. Rendered in place (role="dialog"), closed by Cancel or Escape.
 */
import { useEffect, useRef, type ReactNode } from "react";

import "./confirm.css";

export function Confirm({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  busy,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
}) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    cancel.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onCancel();
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [onCancel]);
  return (
    <div className="confirm-backdrop">
      <div className="confirm" role="dialog" aria-modal="true" aria-label={title} data-testid="confirm">
        <h3>{title}</h3>
        {children}
        <div className="actions">
          <button ref={cancel} className="ghost" onClick={onCancel} data-testid="confirm-cancel">
            Cancel
          </button>
          <button className="danger" onClick={onConfirm} disabled={busy} data-testid="confirm-ok">
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
