import { parseAllDocuments } from 'yaml';

/** The part of the `yaml` package the runner uses. */
export interface YamlParser {
  parseAllDocuments(source: string): Array<{ errors: ReadonlyArray<{ message: string }>; toJSON(): unknown }>;
}

/** The YAML parser of the runner: the `yaml` package (a devDependency; ES's YAML tests are multi-document files). */
export async function loadYamlParser(): Promise<YamlParser> {
  return { parseAllDocuments: (source) => parseAllDocuments(source) as unknown as ReturnType<YamlParser['parseAllDocuments']> };
}
