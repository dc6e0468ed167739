//! A batch of rows as the copy engine moves them: one flat byte buffer and
//! a cell table, so a batch of twenty thousand rows costs two allocations.
//!
//! A cell holds the value's bytes as the source engine reads them out:
//! text and numbers as their text, timestamps as `YYYY-MM-DD hh:mm:ss`, blobs
//! as their raw bytes; or NULL. Writers encode cells for their engine and
//! [`crate::copy::canon`] turns them into the canonical form.

/// The length that marks a NULL cell.
const NULL: u32 = u32::MAX;

/// Rows of one table.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    columns: usize,
    data: Vec<u8>,
    cells: Vec<(u32, u32)>,
}

impl Batch {
    /// An empty batch of rows with `columns` columns.
    pub fn new(columns: usize) -> Batch {
        Batch {
            columns,
            data: Vec::new(),
            cells: Vec::new(),
        }
    }

    /// An empty batch with room for `rows` rows of `bytes` bytes in all,
    /// so filling it does not grow (and copy) its buffers.
    pub fn with_capacity(columns: usize, rows: usize, bytes: usize) -> Batch {
        Batch {
            columns,
            data: Vec::with_capacity(bytes),
            cells: Vec::with_capacity(rows * columns),
        }
    }

    /// An empty batch with this one's columns and room for a little more
    /// than it holds (the next batch of a stream is about as big; the
    /// slack keeps one a few rows or bytes bigger from growing, and so
    /// copying, its buffers).
    pub fn empty_like(&self) -> Batch {
        let rows = self.len();
        Batch::with_capacity(
            self.columns,
            rows + rows / 8 + 2,
            self.data.len() + self.data.len() / 4,
        )
    }

    /// Columns per row.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Complete rows held.
    pub fn len(&self) -> usize {
        self.cells.len().checked_div(self.columns).unwrap_or(0)
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Bytes of cell data held.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Appends a NULL cell.
    pub fn push_null(&mut self) {
        self.cells.push((self.data.len() as u32, NULL));
    }

    /// Appends a cell with `bytes`.
    pub fn push(&mut self, bytes: &[u8]) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(bytes);
        self.cells.push((start, bytes.len() as u32));
    }

    /// Appends an optional cell.
    pub fn push_opt(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            Some(b) => self.push(b),
            None => self.push_null(),
        }
    }

    /// Starts a cell whose bytes the caller appends to [`Batch::buf`], then
    /// closes with [`Batch::end_cell`].
    pub fn begin_cell(&mut self) -> usize {
        self.data.len()
    }

    /// The data buffer, to append a cell's bytes after [`Batch::begin_cell`].
    pub fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.data
    }

    /// Closes the cell begun at `start`.
    pub fn end_cell(&mut self, start: usize) {
        self.cells
            .push((start as u32, (self.data.len() - start) as u32));
    }

    /// Cell `col` of row `row` (`None` for NULL).
    pub fn cell(&self, row: usize, col: usize) -> Option<&[u8]> {
        let (start, len) = self.cells[row * self.columns + col];
        (len != NULL).then(|| &self.data[start as usize..(start + len) as usize])
    }

    /// The cells of row `row`.
    pub fn row(&self, row: usize) -> impl Iterator<Item = Option<&[u8]>> + '_ {
        (0..self.columns).map(move |c| self.cell(row, c))
    }

    /// A new batch with the rows `rows` of this one.
    pub fn slice(&self, rows: std::ops::Range<usize>) -> Batch {
        let share = self.data.len() * rows.len() / self.len().max(1);
        let mut out = Batch::with_capacity(self.columns, rows.len(), share);
        for r in rows {
            for c in 0..self.columns {
                out.push_opt(self.cell(r, c));
            }
        }
        out
    }

    /// Appends the rows of `other` (same columns).
    pub fn append(&mut self, other: &Batch) {
        debug_assert_eq!(self.columns, other.columns);
        for r in 0..other.len() {
            for c in 0..other.columns {
                self.push_opt(other.cell(r, c));
            }
        }
    }

    /// A new batch with the rows of this one that `keep` accepts.
    pub fn filter(&self, mut keep: impl FnMut(usize) -> bool) -> Batch {
        let mut out = Batch::new(self.columns);
        for r in 0..self.len() {
            if keep(r) {
                for c in 0..self.columns {
                    out.push_opt(self.cell(r, c));
                }
            }
        }
        out
    }

    /// Removes the rows after the first `rows` (used when a batch is cut
    /// at a key change).
    pub fn split_off(&mut self, rows: usize) -> Batch {
        // The rest starts the next batch: room for one as big as this.
        let mut rest = self.empty_like();
        for r in rows..self.len() {
            for c in 0..self.columns {
                rest.push_opt(self.cell(r, c));
            }
        }
        self.cells.truncate(rows * self.columns);
        let end = self
            .cells
            .iter()
            .map(|&(s, l)| if l == NULL { s } else { s + l })
            .max()
            .unwrap_or(0);
        self.data.truncate(end as usize);
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_trip_and_split() {
        let mut b = Batch::new(2);
        b.push(b"1");
        b.push_null();
        b.push(b"2");
        let s = b.begin_cell();
        b.buf().extend_from_slice(b"two");
        b.end_cell(s);
        b.push(b"3");
        b.push(b"");
        assert_eq!(b.len(), 3);
        assert_eq!(b.cell(0, 1), None);
        assert_eq!(b.cell(1, 1), Some(&b"two"[..]));
        assert_eq!(b.cell(2, 1), Some(&b""[..]));
        let rest = b.split_off(1);
        assert_eq!(b.len(), 1);
        assert_eq!(rest.len(), 2);
        assert_eq!(rest.cell(0, 0), Some(&b"2"[..]));
        assert_eq!(b.bytes(), 1);
        let odd = rest.filter(|r| r == 1);
        assert_eq!(odd.cell(0, 0), Some(&b"3"[..]));
    }
}
