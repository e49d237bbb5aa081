/** One SQL statement with its `?` parameters. */
export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
}
