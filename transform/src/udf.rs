//! SQL functions edulake adds to DataFusion.
//!
//! - `local_date(timestamp)`: the calendar date of a UTC timestamp in the bureau's time zone
//!   (a notice published at 2026-09-01 01:00 in Shanghai belongs to 1 September, not to
//!   31 August as its UTC date would say).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Array};
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
struct LocalDate {
    signature: Signature,
    tz: Tz,
}

/// The `local_date` function for a time zone.
pub fn local_date(tz: Tz) -> ScalarUDF {
    ScalarUDF::new_from_impl(LocalDate {
        signature: Signature::any(1, Volatility::Immutable),
        tz,
    })
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")
}

impl ScalarUDFImpl for LocalDate {
    fn name(&self) -> &str {
        "local_date"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let micros = arrow::compute::cast(
            &arrays[0],
            &DataType::Timestamp(TimeUnit::Microsecond, None),
        )?;
        let micros = micros.as_primitive::<TimestampMicrosecondType>();
        let out: Date32Array = micros
            .iter()
            .map(|v| {
                v.and_then(chrono::DateTime::from_timestamp_micros)
                    .map(|utc| {
                        let local = self.tz.from_utc_datetime(&utc.naive_utc()).date_naive();
                        (local - epoch()).num_days() as i32
                    })
            })
            .collect();
        let out: ArrayRef = Arc::new(out);
        if args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)))
            && out.len() == 1
        {
            return Ok(ColumnarValue::Scalar(
                datafusion::scalar::ScalarValue::try_from_array(&out, 0)?,
            ));
        }
        Ok(ColumnarValue::Array(out))
    }
}
