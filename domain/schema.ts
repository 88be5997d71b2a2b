// TypeBox helpers shared by the domain's schemas (the campus file, the alert object, silences) and the API's.
import { type SchemaOptions, type TLiteral, type TUnion, Type as T } from "@sinclair/typebox";

export type LiteralUnion<V extends readonly string[]> = TUnion<{ -readonly [K in keyof V]: TLiteral<V[K]> }>;

/** One of a list of strings, as a union of literals typed as that union (`T.Union(values.map(T.Literal))` alone types as string). */
export const literalUnion = <V extends readonly string[]>(values: V, options?: SchemaOptions): LiteralUnion<V> =>
  T.Union(values.map((value) => T.Literal(value)), options) as LiteralUnion<V>;
