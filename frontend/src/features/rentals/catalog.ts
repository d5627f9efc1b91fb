/** The template catalog (templates/catalog.json, served as /templates/catalog.json) and each rental's chosen template. */
import { useQuery } from "@tanstack/react-query";

export interface Template {
  id: string;
  name: string;
  description: string;
  image: string;
  ports: { name: string; container: number; protocol: string }[];
  gpus: number;
  volumes: { name: string; containerPath: string }[];
  env: Record<string, string>;
  command?: string[];
  shmSize?: string;
}

export function useCatalog() {
  return useQuery({
    queryKey: ["catalog"],
    staleTime: Infinity,
    queryFn: async () => (await (await fetch("/templates/catalog.json")).json()) as { templates: Template[] },
  });
}

const KEY = "kaisar.rentalTemplates";

export function rememberTemplate(rentalId: bigint, template: string) {
  const all = JSON.parse(localStorage.getItem(KEY) ?? "{}") as Record<string, string>;
  all[String(rentalId)] = template;
  localStorage.setItem(KEY, JSON.stringify(all));
}

export function templateOf(rentalId: bigint): string | undefined {
  return (JSON.parse(localStorage.getItem(KEY) ?? "{}") as Record<string, string>)[String(rentalId)];
}

/** The container a provider agent starts for a rental (the same shape as node/src/provider/catalog.ts's launchSpec). */
export function launchSpec(t: Template, rental: { rentalId: bigint; renter: string; gpus: number }) {
  const name = `kaisar-rental-${rental.rentalId}`;
  const env: Record<string, string> = {
    ...t.env,
    KAISAR_GPUS: String(rental.gpus),
    KAISAR_RENTAL_ID: String(rental.rentalId),
    KAISAR_RENTER: rental.renter,
  };
  return {
    name,
    template: t.id,
    image: t.image,
    gpus: rental.gpus,
    ports: t.ports.map((p) => `${p.container}/${p.protocol}`),
    volumes: t.volumes.map((v) => `${name}-${v.name}:${v.containerPath}`),
    env: Object.fromEntries(
      Object.keys(env)
        .sort()
        .map((k) => [k, env[k]]),
    ),
    command: t.command ?? [],
  };
}
