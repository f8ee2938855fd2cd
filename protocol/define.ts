// Helpers that make an API definition read like the spec: f(name, type, { since, nullable, tag }).
import type { ApiDefinition, ArrayType, Field, FieldOptions, FieldType, StructType } from "./types.ts";

export function f<const N extends string, const T extends FieldType>(name: N, type: T): Field<N, T>;
export function f<const N extends string, const T extends FieldType, const O extends FieldOptions>(
  name: N,
  type: T,
  options: O,
): Field<N, T> & O;
export function f(name: string, type: FieldType, options?: FieldOptions): Field {
  return { name, type, ...options };
}

export function arr<const T extends FieldType>(of: T): ArrayType<T> {
  return { kind: "array", of };
}

export function struct<const F extends readonly Field[]>(...fields: F): StructType<F> {
  return { kind: "struct", fields };
}

/** An array of structs, the most common shape in Kafka messages. */
export function list<const F extends readonly Field[]>(...fields: F): ArrayType<StructType<F>> {
  return arr(struct(...fields));
}

export function api<Req extends readonly Field[], Res extends readonly Field[]>(
  def: ApiDefinition<Req, Res>,
): ApiDefinition<Req, Res> {
  return def;
}

export const NONE = Number.POSITIVE_INFINITY;
