import { describe, expect, it } from 'vitest';
import { cellId, cellMatches, expandMatrix, expandMatrixTraced } from '../../../runner/rig/matrix.ts';
import type { Matrix } from '../../../runner/rig/schema.ts';

const ids = (matrix: Matrix) => expandMatrix(matrix).map((cell) => cell.id);

describe('expandMatrix', () => {
  it('makes the cartesian product, first axis outermost, values in the order written', () => {
    expect(ids({ backend: ['process', 'bwrap'], concurrency: [1, 4] })).toEqual([
      'backend=process,concurrency=1',
      'backend=process,concurrency=4',
      'backend=bwrap,concurrency=1',
      'backend=bwrap,concurrency=4',
    ]);
  });

  it('follows the declaration order of the axes, not their names', () => {
    expect(ids({ z: [1], a: [true, false] })).toEqual(['z=1,a=true', 'z=1,a=false']);
  });

  it('gives one "default" cell with no params to a rig without a matrix', () => {
    expect(expandMatrix({})).toEqual([{ id: 'default', params: {} }]);
  });

  it('removes every combination an exclude entry matches in all its keys', () => {
    const matrix: Matrix = {
      backend: ['process', 'bwrap', 'qemu'],
      concurrency: [1, 4],
      exclude: [{ backend: 'qemu', concurrency: 4 }, { backend: 'process' }],
    };
    expect(ids(matrix)).toEqual(['backend=bwrap,concurrency=1', 'backend=bwrap,concurrency=4', 'backend=qemu,concurrency=1']);
  });

  it('extends matching combinations with an include entry: params gain the extras, the id stays the axes', () => {
    const cells = expandMatrix({ backend: ['process', 'qemu'], include: [{ backend: 'qemu', accel: 'tcg', args: ['-M', 'microvm'] }] });
    expect(cells).toEqual([
      { id: 'backend=process', params: { backend: 'process' } },
      { id: 'backend=qemu', params: { backend: 'qemu', accel: 'tcg', args: ['-M', 'microvm'] } },
    ]);
  });

  it('adds an include entry that matches no combination as a cell of its own, axes first', () => {
    expect(expandMatrix({ backend: ['process'], include: [{ label: 'fc', backend: 'firecracker' }] })).toEqual([
      { id: 'backend=process', params: { backend: 'process' } },
      { id: 'backend=firecracker,label=fc', params: { backend: 'firecracker', label: 'fc' } },
    ]);
  });

  it('turns each include entry into a cell when there are no axes', () => {
    expect(ids({ include: [{ runner: 'bwrap' }, { runner: 'runc' }] })).toEqual(['runner=bwrap', 'runner=runc']);
  });

  it('does not let an include extend a combination an exclude removed', () => {
    expect(ids({ backend: ['process', 'qemu'], exclude: [{ backend: 'qemu' }], include: [{ backend: 'qemu', accel: 'tcg' }] })).toEqual([
      'backend=process',
      'backend=qemu,accel=tcg',
    ]);
  });

  // The worked example of GitHub's documentation ("Expanding or adding matrix configurations").
  it('reproduces the GitHub Actions include example', () => {
    const cells = expandMatrix({
      fruit: ['apple', 'pear'],
      animal: ['cat', 'dog'],
      include: [
        { color: 'green' },
        { color: 'pink', animal: 'cat' },
        { fruit: 'apple', shape: 'circle' },
        { fruit: 'banana' },
        { fruit: 'banana', animal: 'cat' },
      ],
    });
    expect(cells.map((cell) => cell.params)).toEqual([
      { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
      { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
      { fruit: 'pear', animal: 'cat', color: 'pink' },
      { fruit: 'pear', animal: 'dog', color: 'green' },
      { fruit: 'banana' },
      { fruit: 'banana', animal: 'cat' },
    ]);
  });

  it('never overwrites an original axis value with an include', () => {
    const cells = expandMatrix({ os: ['linux'], include: [{ os: 'linux', cpu: 'x86' }, { os: 'mac', cpu: 'arm' }] });
    expect(cells.map((cell) => cell.params)).toEqual([{ os: 'linux', cpu: 'x86' }, { os: 'mac', cpu: 'arm' }]);
  });
});

describe('expandMatrixTraced', () => {
  it('says where in the matrix each param of a cell is written: its axis value, or the last include that set it', () => {
    const cells = expandMatrixTraced({
      backend: ['bwrap', 'qemu'],
      include: [{ backend: 'qemu', iterations: 5 }, { backend: 'qemu', iterations: 3, accel: 'tcg' }, { backend: 'runc', root: true }],
    });
    expect(cells.map(({ id, origins, includedBy }) => ({ id, origins, includedBy }))).toEqual([
      { id: 'backend=bwrap', origins: { backend: ['backend', 0] }, includedBy: undefined },
      { id: 'backend=qemu', origins: { backend: ['backend', 1], iterations: ['include', 1, 'iterations'], accel: ['include', 1, 'accel'] }, includedBy: undefined },
      { id: 'backend=runc,root=true', origins: { backend: ['include', 2, 'backend'], root: ['include', 2, 'root'] }, includedBy: 2 },
    ]);
    expect(expandMatrix({ backend: ['bwrap'] })).toEqual([{ id: 'backend=bwrap', params: { backend: 'bwrap' } }]);
  });
});

describe('cellId', () => {
  it('leaves list and mapping values out, keeps null', () => {
    expect(cellId({ backend: 'qemu', args: ['-M'], extra: null, opts: { a: 1 } })).toBe('backend=qemu,extra=null');
  });
});

describe('cellMatches', () => {
  const params = { backend: 'bwrap', concurrency: 1 };
  it('matches when every where key has the same value', () => {
    expect(cellMatches(params, { backend: 'bwrap' })).toBe(true);
    expect(cellMatches(params, { backend: 'bwrap', concurrency: 1 })).toBe(true);
    expect(cellMatches(params, {})).toBe(true);
  });
  it('does not match on a different value, a different type, or a missing key', () => {
    expect(cellMatches(params, { backend: 'runc' })).toBe(false);
    expect(cellMatches(params, { concurrency: '1' })).toBe(false);
    expect(cellMatches(params, { accel: 'tcg' })).toBe(false);
  });
});
