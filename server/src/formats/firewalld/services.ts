/** The shape of data/firewalld-services.json: firewalld's stock service definitions, by name. */

export interface FirewalldPortSpec {
  /** As firewalld writes it: "22", "60000-61000". */
  port: string;
  protocol: string;
}

export interface FirewalldServiceDef {
  short: string;
  ports: FirewalldPortSpec[];
  protocols: string[];
  sourcePorts: FirewalldPortSpec[];
  /** Other services this one pulls in (`<include service="..."/>`). */
  includes: string[];
  helpers: string[];
  modules: string[];
  destination: { ipv4?: string; ipv6?: string };
}

export interface FirewalldServiceData {
  /** Where the definitions come from (package and version). */
  source: string;
  services: Record<string, FirewalldServiceDef>;
}
