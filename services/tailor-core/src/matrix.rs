use std::collections::HashMap;
use std::sync::Arc;

use crate::filter::{RowCodes, Vocabulary};
use crate::vector::check_finite;
use crate::{AttributeFilter, Attributes, CoreError, Embedding, FilterField, ItemId, ResolvedFilter};

/// Item embeddings in row-major blocks, with the ids and interned filter attributes of each row.
/// Scanning touches memory sequentially within a block, which is what keeps exact top-K fast.
/// A changed copy ([`ItemMatrix::with_rows`]) shares every block and index it does not change,
/// so a live catalogue's snapshots cost what they change, not the catalogue's size.
#[derive(Clone, Debug)]
pub struct ItemMatrix {
    dim: usize,
    ids: Arc<Vec<ItemId>>,
    rows_by_id: Arc<HashMap<ItemId, u32>>,
    /// `BLOCK_ROWS` rows each, the last one possibly fewer.
    blocks: Vec<Arc<Vec<f32>>>,
    codes: Arc<Vec<RowCodes>>,
    vocabularies: Arc<[Vocabulary; FilterField::COUNT]>,
    /// The rows holding each attribute code, by field: a filtered scan walks only the rows of
    /// its rarest required value.
    rows_by_code: Arc<[Vec<Vec<u32>>; FilterField::COUNT]>,
}

/// Rows per block of values: a changed row costs a copy of its block (a megabyte at 256
/// numbers a row), a power of two so that finding a row is a shift.
const BLOCK_ROWS: usize = 1024;

impl ItemMatrix {
    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn id(&self, row: u32) -> &ItemId {
        &self.ids[row as usize]
    }

    pub fn row_of(&self, id: &str) -> Option<u32> {
        self.rows_by_id.get(id).copied()
    }

    /// A query this matrix can be searched with: its dimension, every value finite.
    pub fn check_query(&self, query: &[f32]) -> Result<(), CoreError> {
        if query.len() != self.dim {
            return Err(CoreError::DimensionMismatch { expected: self.dim, found: query.len() });
        }
        check_finite(query)
    }

    /// Whether `row` meets a filter resolved against this matrix.
    pub fn passes(&self, row: u32, filter: &ResolvedFilter) -> bool {
        filter.matches(self.row_codes(row))
    }

    pub fn row(&self, row: u32) -> &[f32] {
        let (block, start) = self.locate(row);
        &self.blocks[block][start..start + self.dim]
    }

    /// The block holding `row`, and where its values start in the block.
    fn locate(&self, row: u32) -> (usize, usize) {
        let row = row as usize;
        (row / BLOCK_ROWS, row % BLOCK_ROWS * self.dim)
    }

    /// Asks the CPU to start loading `row` and its codes: a filtered scan's rows are scattered,
    /// and without the hint each one waits on memory in turn.
    #[allow(unsafe_code, reason = "a prefetch hint, which never faults")]
    pub(crate) fn prefetch(&self, row: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            const CACHE_LINE: usize = 64;
            let values = self.row(row);
            let end = values.as_ptr_range().end.cast::<i8>();
            let mut line = values.as_ptr().cast::<i8>();
            while line < end {
                // SAFETY: a prefetch never faults, and `line` stays within this row.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(line) };
                line = line.wrapping_add(CACHE_LINE);
            }
            // SAFETY: as above, for the row's codes.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(self.row_codes(row).as_ptr().cast::<i8>()) };
        }
    }

    pub(crate) fn row_codes(&self, row: u32) -> &RowCodes {
        &self.codes[row as usize]
    }

    /// Checks a filter against the values this matrix holds; a value no item has is an error
    /// naming the field, not a silently empty result.
    pub fn resolve(&self, filter: &AttributeFilter) -> Result<ResolvedFilter, CoreError> {
        ResolvedFilter::resolve(filter, &self.vocabularies)
    }

    /// An upper bound on the rows that pass `filter`: the rows holding its rarest required value.
    pub fn passing_at_most(&self, filter: &ResolvedFilter) -> usize {
        self.rarest(filter).map_or(self.len(), <[u32]>::len)
    }

    /// The rows holding `filter`'s rarest required value, ascending; `None` for no filter.
    pub(crate) fn rarest(&self, filter: &ResolvedFilter) -> Option<&[u32]> {
        filter
            .required()
            .map(|(field, code)| self.rows_by_code[field][code as usize].as_slice())
            .min_by_key(|r| r.len())
    }

    /// The interned code of `row`'s `field` (0: no value); equal codes are equal values, case aside.
    pub fn code(&self, row: u32, field: FilterField) -> u32 {
        self.row_codes(row)[field.index()]
    }

    /// The code `value` (case-insensitive) has in `field`; `None` for a value no row has.
    pub fn code_of(&self, field: FilterField, value: &str) -> Option<u32> {
        self.vocabularies[field.index()].code(value)
    }

    /// The rows whose `field` has the code `code`, ascending; none for a code no value has.
    pub fn rows_with_code(&self, field: FilterField, code: u32) -> &[u32] {
        self.rows_by_code[field.index()].get(code as usize).map_or(&[][..], Vec::as_slice)
    }

    /// A copy with the rows `replaced` given new attributes and values, and `appended` after the
    /// last row. It shares what the changes leave alone: a row whose values and filter codes are
    /// unchanged (a new price, say) costs nothing, a changed vector copies its block, and the id
    /// index is copied only when rows are appended.
    pub fn with_rows(
        &self,
        replaced: &[(u32, &Attributes, &[f32])],
        appended: &[(ItemId, &Attributes, &[f32])],
    ) -> Result<ItemMatrix, CoreError> {
        let mut m = self.clone();
        for &(row, attributes, values) in replaced {
            if row as usize >= m.len() {
                return Err(CoreError::NoSuchRow { row, rows: m.len() });
            }
            m.check_row(values)?;
            let codes = m.codes_of(attributes);
            let old = m.codes[row as usize];
            if old != codes {
                let rows_by_code = Arc::make_mut(&mut m.rows_by_code);
                for (field, (&old, &new)) in old.iter().zip(&codes).enumerate() {
                    if old != new {
                        let rows = &mut rows_by_code[field][old as usize];
                        if let Ok(at) = rows.binary_search(&row) {
                            rows.remove(at);
                        }
                        let rows = &mut rows_by_code[field][new as usize];
                        let at = rows.binary_search(&row).unwrap_or_else(|at| at);
                        rows.insert(at, row);
                    }
                }
                Arc::make_mut(&mut m.codes)[row as usize] = codes;
            }
            if m.row(row) != values {
                let (block, start) = m.locate(row);
                Arc::make_mut(&mut m.blocks[block])[start..start + m.dim].copy_from_slice(values);
            }
        }
        let mut builder = ItemMatrixBuilder { matrix: m };
        for (id, attributes, values) in appended {
            builder.push_slice(id.clone(), attributes, values)?;
        }
        Ok(builder.build())
    }

    fn check_row(&self, values: &[f32]) -> Result<(), CoreError> {
        if values.len() != self.dim {
            return Err(CoreError::DimensionMismatch { expected: self.dim, found: values.len() });
        }
        check_finite(values)
    }

    /// The codes of `attributes`, interning values new to this matrix (with room in the row
    /// lists for their codes); the vocabularies are copied only when a value is new.
    fn codes_of(&mut self, attributes: &Attributes) -> RowCodes {
        let known = FilterField::ALL
            .map(|field| field.value(attributes).map_or(Some(0), |value| self.vocabularies[field.index()].code(value)));
        if known.iter().all(Option::is_some) {
            return known.map(Option::unwrap_or_default);
        }
        let vocabularies = Arc::make_mut(&mut self.vocabularies);
        let codes = FilterField::ALL.map(|field| vocabularies[field.index()].intern(field.value(attributes)));
        let rows_by_code = Arc::make_mut(&mut self.rows_by_code);
        for (rows, &code) in rows_by_code.iter_mut().zip(&codes) {
            if rows.len() <= code as usize {
                rows.resize(code as usize + 1, Vec::new());
            }
        }
        codes
    }

    /// The rows of the given ids; ids not in the matrix are skipped.
    pub fn rows_of<'a>(&self, ids: impl IntoIterator<Item = &'a ItemId>) -> RowSet {
        let mut set = RowSet::new(self.len());
        ids.into_iter().filter_map(|id| self.row_of(id.as_str())).for_each(|row| set.insert(row));
        set
    }
}

pub struct ItemMatrixBuilder {
    matrix: ItemMatrix,
}

impl ItemMatrixBuilder {
    pub fn new(dim: usize) -> Result<Self, CoreError> {
        if dim == 0 {
            return Err(CoreError::ZeroDimension);
        }
        let matrix = ItemMatrix {
            dim,
            ids: Arc::default(),
            rows_by_id: Arc::default(),
            blocks: Vec::new(),
            codes: Arc::default(),
            vocabularies: Arc::default(),
            // Each field's list for code 0, no value.
            rows_by_code: Arc::new(std::array::from_fn(|_| vec![Vec::new()])),
        };
        Ok(ItemMatrixBuilder { matrix })
    }

    pub fn push(&mut self, id: ItemId, attributes: &Attributes, embedding: &Embedding) -> Result<(), CoreError> {
        self.push_slice(id, attributes, embedding.as_slice())
    }

    /// Pushes a row copied from another matrix (or any finite values of the right dimension).
    pub fn push_slice(&mut self, id: ItemId, attributes: &Attributes, values: &[f32]) -> Result<(), CoreError> {
        let m = &mut self.matrix;
        m.check_row(values)?;
        if m.rows_by_id.contains_key(&id) {
            return Err(CoreError::DuplicateItem(id.to_string()));
        }
        let codes = m.codes_of(attributes);
        let row = m.ids.len() as u32;
        for (rows, &code) in Arc::make_mut(&mut m.rows_by_code).iter_mut().zip(&codes) {
            rows[code as usize].push(row);
        }
        Arc::make_mut(&mut m.rows_by_id).insert(id.clone(), row);
        Arc::make_mut(&mut m.ids).push(id);
        Arc::make_mut(&mut m.codes).push(codes);
        match m.blocks.last_mut() {
            Some(block) if block.len() < BLOCK_ROWS * m.dim => Arc::make_mut(block).extend_from_slice(values),
            _ => {
                let mut block = Vec::with_capacity(BLOCK_ROWS * m.dim);
                block.extend_from_slice(values);
                m.blocks.push(Arc::new(block));
            }
        }
        Ok(())
    }

    pub fn build(self) -> ItemMatrix {
        self.matrix
    }
}

/// A set of matrix rows (a bitset), e.g. the items a visitor already interacted with.
#[derive(Clone, Debug, Default)]
pub struct RowSet {
    words: Vec<u64>,
}

impl RowSet {
    pub fn new(rows: usize) -> RowSet {
        RowSet { words: vec![0; rows.div_ceil(64)] }
    }

    pub fn insert(&mut self, row: u32) {
        self.words[row as usize / 64] |= 1 << (row % 64);
    }

    /// Makes room for rows up to `rows`; a set never shrinks.
    pub fn grow(&mut self, rows: usize) {
        let words = rows.div_ceil(64);
        if self.words.len() < words {
            self.words.resize(words, 0);
        }
    }

    pub fn contains(&self, row: u32) -> bool {
        self.words.get(row as usize / 64).is_some_and(|w| w & (1 << (row % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Gender;

    fn embedding(values: &[f32]) -> Embedding {
        Embedding::new(values.to_vec(), values.len()).unwrap()
    }

    #[test]
    fn builder_checks_dimension_and_duplicates() {
        let mut builder = ItemMatrixBuilder::new(2).unwrap();
        let id = ItemId::new("a").unwrap();
        builder.push(id.clone(), &Attributes::default(), &embedding(&[1.0, 0.0])).unwrap();
        assert_eq!(
            builder.push(id, &Attributes::default(), &embedding(&[0.0, 1.0])),
            Err(CoreError::DuplicateItem("a".into()))
        );
        assert_eq!(
            builder.push(ItemId::new("b").unwrap(), &Attributes::default(), &embedding(&[1.0, 0.0, 0.0])),
            Err(CoreError::DimensionMismatch { expected: 2, found: 3 })
        );
        let matrix = builder.build();
        assert_eq!(matrix.len(), 1);
        assert_eq!(matrix.row(0), &[1.0, 0.0]);
    }

    #[test]
    fn a_changed_copy_copies_only_the_blocks_whose_values_change() {
        let mut builder = ItemMatrixBuilder::new(2).unwrap();
        for i in 0..3 * BLOCK_ROWS {
            builder.push_slice(ItemId::new(format!("i{i}")).unwrap(), &Attributes::default(), &[1.0, 0.0]).unwrap();
        }
        let matrix = builder.build();
        let black = Attributes { colour: Some("Black".into()), ..Default::default() };
        let recoloured = matrix.with_rows(&[(5, &black, &[1.0, 0.0])], &[]).unwrap();
        assert!(matrix.blocks.iter().zip(&recoloured.blocks).all(|(a, b)| Arc::ptr_eq(a, b)));
        assert!(Arc::ptr_eq(&matrix.rows_by_id, &recoloured.rows_by_id));
        let moved = matrix.with_rows(&[(BLOCK_ROWS as u32 + 1, &Attributes::default(), &[0.0, 1.0])], &[]).unwrap();
        let shared: Vec<bool> = matrix.blocks.iter().zip(&moved.blocks).map(|(a, b)| Arc::ptr_eq(a, b)).collect();
        assert_eq!(shared, [true, false, true]);
        assert!(Arc::ptr_eq(&matrix.codes, &moved.codes), "codes unchanged");
        assert_eq!(moved.row(BLOCK_ROWS as u32 + 1), &[0.0, 1.0]);
        assert_eq!(matrix.row(BLOCK_ROWS as u32 + 1), &[1.0, 0.0]);
    }

    #[test]
    fn filters_resolve_case_insensitively_and_name_unknown_values() {
        let mut builder = ItemMatrixBuilder::new(2).unwrap();
        let attributes =
            Attributes { gender: Some(Gender::Men), colour: Some("Navy Blue".into()), ..Default::default() };
        builder.push(ItemId::new("a").unwrap(), &attributes, &embedding(&[1.0, 0.0])).unwrap();
        let matrix = builder.build();
        let filter = AttributeFilter::default().with(FilterField::Colour, "navy blue").with(FilterField::Gender, "MEN");
        assert!(matrix.resolve(&filter).unwrap().matches(matrix.row_codes(0)));
        let unknown = AttributeFilter::default().with(FilterField::Colour, "teal");
        assert_eq!(
            matrix.resolve(&unknown),
            Err(CoreError::UnknownAttributeValue { field: "colour", value: "teal".into() })
        );
    }

    #[test]
    fn passing_at_most_is_the_count_of_the_rarest_required_value() {
        let mut builder = ItemMatrixBuilder::new(2).unwrap();
        for (i, (gender, colour)) in
            [(Gender::Men, "Navy"), (Gender::Men, "Red"), (Gender::Women, "Navy")].iter().enumerate()
        {
            let attributes = Attributes { gender: Some(*gender), colour: Some((*colour).into()), ..Default::default() };
            builder.push(ItemId::new(format!("i{i}")).unwrap(), &attributes, &embedding(&[1.0, 0.0])).unwrap();
        }
        let matrix = builder.build();
        let bound = |filter: AttributeFilter| matrix.passing_at_most(&matrix.resolve(&filter).unwrap());
        assert_eq!(bound(AttributeFilter::default()), 3);
        assert_eq!(bound(AttributeFilter::default().with(FilterField::Gender, "men")), 2);
        assert_eq!(
            bound(AttributeFilter::default().with(FilterField::Gender, "men").with(FilterField::Colour, "red")),
            1
        );
    }

    #[test]
    fn codes_name_values_case_insensitively_and_list_their_rows() {
        let mut builder = ItemMatrixBuilder::new(2).unwrap();
        for (i, gender) in [Gender::Men, Gender::Women, Gender::Men].iter().enumerate() {
            let attributes = Attributes { gender: Some(*gender), ..Default::default() };
            builder.push(ItemId::new(format!("i{i}")).unwrap(), &attributes, &embedding(&[1.0, 0.0])).unwrap();
        }
        let matrix = builder.build();
        let men = matrix.code_of(FilterField::Gender, "MEN").unwrap();
        let women = matrix.code_of(FilterField::Gender, "women").unwrap();
        assert_eq!(matrix.rows_with_code(FilterField::Gender, men), &[0, 2]);
        assert_eq!(matrix.rows_with_code(FilterField::Gender, women), &[1]);
        assert!(matrix.rows_with_code(FilterField::Gender, 99).is_empty());
        assert_eq!([0, 1, 2].map(|row| matrix.code(row, FilterField::Gender) == men), [true, false, true]);
        assert_eq!(matrix.code(0, FilterField::Colour), 0, "no colour");
        assert_eq!(matrix.code_of(FilterField::Gender, "girls"), None);
    }

    #[test]
    fn row_set_membership() {
        let mut set = RowSet::new(130);
        set.insert(0);
        set.insert(129);
        assert!(set.contains(0) && set.contains(129));
        assert!(!set.contains(1) && !set.contains(64) && !set.contains(10_000));
    }
}
