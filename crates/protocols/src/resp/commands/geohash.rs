//! The geohash cells a GEOSEARCH looks in, as redis 7.0's `geohash.c` and
//! `geohash_helper.c` choose them: the cell around the search's centre at a
//! precision the search's size gives, and its eight neighbours, less those
//! the search area cannot reach. A sorted set's members lie in a cell when
//! their 52-bit scores share its prefix, so each cell is one score range.
//! The order of the cells is the order redis reads them in, which is the
//! order an unsorted `COUNT n ANY` search answers in.

use super::geo::{deinterleave, interleave, EARTH_RADIUS_IN_METERS, LAT_MAX, LAT_MIN};
use super::geo::{LONG_MAX, LONG_MIN, STEP};

/// What a search covers: a circle or an axis-aligned box around a point.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// The centre: longitude, latitude.
    pub long: f64,
    pub lat: f64,
    pub area: Area,
    /// Meters in the unit the search was given in.
    pub to_meters: f64,
}

/// A search's extent, in its unit.
#[derive(Clone, Copy, Debug)]
pub enum Area {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// A geohash of `step` steps per coordinate (`bits` holds 2 × step bits);
/// step 0 is no cell (redis's `GZERO`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    pub bits: u64,
    pub step: u32,
}

impl Cell {
    const NONE: Cell = Cell { bits: 0, step: 0 };

    fn is_none(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The scores of the members inside the cell: from the first
    /// (included) to the second (excluded).
    pub fn scores(self) -> (f64, f64) {
        let shift = 2 * (STEP - self.step);
        (
            (self.bits << shift) as f64,
            ((self.bits + 1) << shift) as f64,
        )
    }
}

/// A cell's bounds, in degrees.
struct Bounds {
    long_min: f64,
    long_max: f64,
    lat_min: f64,
    lat_max: f64,
}

/// The cell of `step` steps holding the point, in the latitudes from
/// `lat_min` to `lat_max` (redis's `geohashEncode`).
pub fn cell_of(long: f64, lat: f64, step: u32, lat_min: f64, lat_max: f64) -> Cell {
    let cells = (1u64 << step) as f64;
    let lat_offset = (lat - lat_min) / (lat_max - lat_min) * cells;
    let long_offset = (long - LONG_MIN) / (LONG_MAX - LONG_MIN) * cells;
    Cell {
        bits: interleave(lat_offset as u32, long_offset as u32),
        step,
    }
}

/// A cell's bounds in geohash's (Web Mercator) ranges (redis's
/// `geohashDecode`).
fn bounds(cell: Cell) -> Bounds {
    let separated = deinterleave(cell.bits);
    let (lat_cell, long_cell) = (separated as u32, (separated >> 32) as u32);
    let cells = (1u64 << cell.step) as f64;
    let at = |i: u32, min: f64, max: f64| min + (f64::from(i) / cells) * (max - min);
    Bounds {
        lat_min: at(lat_cell, LAT_MIN, LAT_MAX),
        lat_max: at(lat_cell + 1, LAT_MIN, LAT_MAX),
        long_min: at(long_cell, LONG_MIN, LONG_MAX),
        long_max: at(long_cell + 1, LONG_MIN, LONG_MAX),
    }
}

/// The cell `dx` cells east and `dy` north (each −1, 0 or 1), wrapping as
/// redis's `geohash_move_x` and `geohash_move_y` do.
fn moved(cell: Cell, dx: i8, dy: i8) -> Cell {
    const EVEN: u64 = 0xaaaa_aaaa_aaaa_aaaa;
    const ODD: u64 = 0x5555_5555_5555_5555;
    let shift = 64 - cell.step * 2;
    let step_along = |part: u64, ones: u64, mask: u64, d: i8| {
        let zz = ones >> shift;
        let part = match d {
            0 => return part,
            d if d > 0 => part.wrapping_add(zz + 1),
            _ => (part | zz).wrapping_sub(zz + 1),
        };
        part & (mask >> shift)
    };
    let x = step_along(cell.bits & EVEN, ODD, EVEN, dx);
    let y = step_along(cell.bits & ODD, EVEN, ODD, dy);
    Cell {
        bits: x | y,
        step: cell.step,
    }
}

/// How many steps make cells about the size of the search (redis's
/// `geohashEstimateStepsByRadius`).
fn estimate_steps(range_meters: f64, lat: f64) -> u32 {
    const MERCATOR_MAX: f64 = 20_037_726.37;
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u32
}

/// The search's bounding box: longitude and latitude, minimum then maximum
/// (redis's `geohashBoundingBox`).
fn bounding_box(shape: &Shape) -> [f64; 4] {
    let (height, width) = match shape.area {
        Area::Radius(radius) => (radius, radius),
        Area::Box { width, height } => (height / 2.0, width / 2.0),
    };
    let (height, width) = (height * shape.to_meters, width * shape.to_meters);
    let lat_delta = (height / EARTH_RADIUS_IN_METERS).to_degrees();
    let long_delta =
        |lat: f64| (width / EARTH_RADIUS_IN_METERS / lat.to_radians().cos()).to_degrees();
    let long_delta_top = long_delta(shape.lat + lat_delta);
    let long_delta_bottom = long_delta(shape.lat - lat_delta);
    let long_delta = if shape.lat < 0.0 {
        long_delta_bottom
    } else {
        long_delta_top
    };
    [
        shape.long - long_delta,
        shape.lat - lat_delta,
        shape.long + long_delta,
        shape.lat + lat_delta,
    ]
}

/// The nine cells to read, in redis's order (the centre's, then north,
/// south, east, west, north-east, north-west, south-east, south-west),
/// those the search cannot reach as no cell (redis's
/// `geohashCalculateAreasByShapeWGS84`).
pub fn cells(shape: &Shape) -> [Cell; 9] {
    let [min_long, min_lat, max_long, max_lat] = bounding_box(shape);
    let radius_meters = match shape.area {
        Area::Radius(radius) => radius,
        Area::Box { width, height } => ((width / 2.0).powi(2) + (height / 2.0).powi(2)).sqrt(),
    } * shape.to_meters;
    let mut steps = estimate_steps(radius_meters, shape.lat);
    let around = |steps: u32| {
        let centre = cell_of(shape.long, shape.lat, steps, LAT_MIN, LAT_MAX);
        let at = |dx, dy| moved(centre, dx, dy);
        [
            centre,
            at(0, 1),
            at(0, -1),
            at(1, 0),
            at(-1, 0),
            at(1, 1),
            at(-1, 1),
            at(1, -1),
            at(-1, -1),
        ]
    };
    let mut cells = around(steps);
    // A cell at this step may be too small to reach the box's edges from
    // its neighbours: one step coarser, then.
    let too_small = bounds(cells[1]).lat_max < max_lat
        || bounds(cells[2]).lat_min > min_lat
        || bounds(cells[3]).long_max < max_long
        || bounds(cells[4]).long_min > min_long;
    if steps > 1 && too_small {
        steps -= 1;
        cells = around(steps);
    }
    // Leave out the neighbours on a side the search does not reach.
    if steps >= 2 {
        let centre = bounds(cells[0]);
        let mut drop = |sides: [usize; 3]| sides.iter().for_each(|&i| cells[i] = Cell::NONE);
        if centre.lat_min < min_lat {
            drop([2, 8, 7]);
        }
        if centre.lat_max > max_lat {
            drop([1, 5, 6]);
        }
        if centre.long_min < min_long {
            drop([4, 8, 6]);
        }
        if centre.long_max > max_long {
            drop([3, 7, 5]);
        }
    }
    cells
}

/// The cells of [`cells`] to read, in order: none twice in a row (with a
/// huge radius, neighbours can be one cell), as redis's
/// `membersOfAllNeighbors` skips them.
pub fn cells_to_read(shape: &Shape) -> Vec<Cell> {
    let cells = cells(shape);
    let mut read = Vec::with_capacity(9);
    let mut last: Option<usize> = None;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_none() {
            continue;
        }
        // Redis compares with the last cell read only once that is not the
        // centre (its index 0 reads as "none yet").
        if let Some(last) = last.filter(|&last| last != 0) {
            if cells[last] == *cell {
                continue;
            }
        }
        read.push(*cell);
        last = Some(i);
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_at_full_precision_is_the_score_geoadd_gives() {
        let (long, lat) = (13.361389, 38.115556);
        let cell = cell_of(long, lat, STEP, LAT_MIN, LAT_MAX);
        assert_eq!(cell.bits, super::super::geo::encode(long, lat));
        let (min, max) = cell.scores();
        assert_eq!(max - min, 1.0);
    }

    #[test]
    fn neighbours_move_one_cell_and_come_back() {
        let centre = cell_of(2.35, 48.85, 10, LAT_MIN, LAT_MAX);
        for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1)] {
            let there = moved(centre, dx, dy);
            assert_ne!(there, centre);
            assert_eq!(moved(there, -dx, -dy), centre);
        }
        let east = bounds(moved(centre, 1, 0));
        let here = bounds(centre);
        assert!((east.long_min - here.long_max).abs() < 1e-9);
    }
}
