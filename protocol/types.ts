// The field-type vocabulary of API definitions, and the TypeScript types inferred from them so that
// handlers receive typed request objects and return typed responses.

export type Primitive =
  | "bool"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "float64"
  | "uuid"
  | "string"
  | "bytes"
  | "records";

export interface ArrayType<T extends FieldType = FieldType> {
  readonly kind: "array";
  readonly of: T;
}

export interface StructType<F extends readonly Field[] = readonly Field[]> {
  readonly kind: "struct";
  readonly fields: F;
}

export type FieldType = Primitive | ArrayType<any> | StructType<any>;

/** A version bound: "from this version on". */
export interface FieldOptions {
  /** first version that has the field (default 0) */
  since?: number;
  /** last version that has the field (default: all later versions) */
  until?: number;
  /** first version in which null is allowed (strings, bytes, records, arrays); true = always */
  nullable?: number | true;
  /** tagged field number; tagged fields exist only in flexible versions */
  tag?: number;
  /** value used when the field is absent in a version (requests) or omitted by a handler (responses) */
  default?: unknown;
}

export interface Field<N extends string = string, T extends FieldType = FieldType> extends FieldOptions {
  readonly name: N;
  readonly type: T;
}

export interface ApiDefinition<
  Req extends readonly Field[] = readonly Field[],
  Res extends readonly Field[] = readonly Field[],
> {
  readonly key: number;
  readonly name: string;
  /** the versions Brook serves: [min, max] */
  readonly versions: readonly [number, number];
  /**
   * A lower minimum to advertise in ApiVersions than Brook serves, where a client decides features
   * from the advertised range (requests below `versions[0]` are still refused).
   */
  readonly advertisedMin?: number;
  /** first flexible version (compact encodings, tagged fields, header v2/v1); Infinity = none */
  readonly flexible: number;
  readonly request: Req;
  readonly response: Res;
}

/** Raw bytes of one or more record batches; a list is written back to back (fetch from several slices). */
export type RecordsValue = Uint8Array | readonly Uint8Array[];

type PrimitiveValue<P extends Primitive> = P extends "bool"
  ? boolean
  : P extends "string" | "uuid"
    ? string
    : P extends "bytes"
      ? Uint8Array
      : P extends "records"
        ? RecordsValue
        : number;

type IsNullable<F> = F extends { nullable: number | true } ? true : false;

export type ValueOf<T> = T extends Primitive
  ? PrimitiveValue<T>
  : T extends ArrayType<infer E>
    ? ValueOf<E>[]
    : T extends StructType<infer F>
      ? Infer<F>
      : never;

type FieldValue<F extends Field> = IsNullable<F> extends true ? ValueOf<F["type"]> | null : ValueOf<F["type"]>;

/** Decoded object of a field list: every field present (absent ones take their default). */
export type Infer<F extends readonly Field[]> = {
  -readonly [K in F[number] as K["name"]]: FieldValue<K>;
};

/** What an encoder accepts: any field may be omitted and then takes its default. */
export type Loose<T> = T extends Uint8Array
  ? T
  : T extends readonly (infer E)[]
    ? Loose<E>[]
    : T extends object
      ? { [K in keyof T]?: Loose<T[K]> }
      : T;

export type RequestOf<D extends ApiDefinition> = Infer<D["request"]>;
export type ResponseOf<D extends ApiDefinition> = Loose<Infer<D["response"]>>;
