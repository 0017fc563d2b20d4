/** The runtime modules a module chunk uses, made by the build (src/isolates/runtime-module-chunks.ts). */
declare module 'isolane:given/*' {
  export function given(): object;
}
