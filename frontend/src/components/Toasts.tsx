import { useToasts } from "../hooks/useTransactor";
import { shortHash } from "../lib/format";

export function Toasts() {
  const { toasts, dismiss } = useToasts();
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.status}`} data-testid={`toast-${t.status}`}>
          <strong>{t.title}</strong>
          <div>
            {t.status === "pending" && <span className="spinner" />} {t.step}
          </div>
          {t.hash && <div className="muted small">tx {shortHash(t.hash)}</div>}
          {t.status !== "pending" && (
            <button className="ghost small" onClick={() => dismiss(t.id)} aria-label="Dismiss">
              ✕
            </button>
          )}
        </div>
      ))}
    </div>
  );
}
