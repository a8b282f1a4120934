/** How a sourced number reads on the page (runner/report/number.ts does the digits). */
import { formatNumber, formatRatio, formatValue } from '../../report/number.ts';
import type { Shown } from '../model/source.ts';

const GIB = 2 ** 30;

export function formatShown(shown: Shown): string {
  switch (shown.format) {
    case 'ratio':
      return formatRatio(shown.value);
    case 'bytes':
      return `${formatNumber(shown.value / GIB)} GiB`;
    case 'count':
      return String(shown.value);
    case 'load':
      return shown.value.toFixed(2);
    case 'value':
      return formatValue(shown.value, shown.unit);
  }
}
