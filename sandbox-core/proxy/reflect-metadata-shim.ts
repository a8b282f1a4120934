/**
 * @peculiar/x509 registers its algorithm providers through tsyringe, which
 * refuses to load without the Reflect metadata API. The `reflect-metadata`
 * package is not a dependency yet; this is the subset tsyringe calls
 * (getMetadata, getOwnMetadata, defineMetadata). Drop it once the package is added.
 * Import it before @peculiar/x509.
 */
type Store = Map<unknown, Map<PropertyKey | undefined, unknown>>;
const stores = new WeakMap<object, Store>();

interface ReflectMetadata {
  defineMetadata(key: unknown, value: unknown, target: object, property?: PropertyKey): void;
  getOwnMetadata(key: unknown, target: object, property?: PropertyKey): unknown;
  getMetadata(key: unknown, target: object, property?: PropertyKey): unknown;
}

const reflect = Reflect as typeof Reflect & Partial<ReflectMetadata>;

if (!reflect.getMetadata) {
  const getOwn = (key: unknown, target: object, property?: PropertyKey): unknown =>
    stores.get(target)?.get(key)?.get(property);
  Object.assign(reflect, {
    defineMetadata(key: unknown, value: unknown, target: object, property?: PropertyKey) {
      let store = stores.get(target);
      if (!store) stores.set(target, (store = new Map()));
      let byProperty = store.get(key);
      if (!byProperty) store.set(key, (byProperty = new Map()));
      byProperty.set(property, value);
    },
    getOwnMetadata: getOwn,
    getMetadata(key: unknown, target: object, property?: PropertyKey): unknown {
      for (let at: object | null = target; at !== null; at = Object.getPrototypeOf(at) as object | null) {
        const value = getOwn(key, at, property);
        if (value !== undefined) return value;
      }
      return undefined;
    },
  } satisfies ReflectMetadata);
}
