/** opossum 10 under its npm alias (`opossum10@npm:opossum@^10`): same API as 9, typed by @types/opossum. */
declare module 'opossum10' {
  import Opossum from 'opossum';
  export default Opossum;
}
