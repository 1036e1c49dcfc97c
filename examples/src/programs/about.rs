//! What the server is: product, version and build, API type and version, instance UUID.
//!
//! `about [--url https://USER@HOST/sdk] [--json]` (connection options: README, "Examples").
//! All of it is in the `ServiceContent` the connection already holds: no further call.
//!
//! `--json`: `{"name", "fullName", "vendor", "version", "build", "osType", "productLineId",
//! "apiType", "apiVersion", "instanceUuid", "licenseProductName", "licenseProductVersion"}`,
//! the fields of vSphere's `AboutInfo` (an absent one is `null`).

use crate::{output, Common, Result};
use clap::Parser;
use serde::Serialize;

/// Prints what the server is (product, version, build, API)
#[derive(Parser)]
#[command(name = "about")]
struct Args {
    #[command(flatten)]
    common: Common,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct About<'a> {
    name: &'a str,
    full_name: &'a str,
    vendor: &'a str,
    version: &'a str,
    build: &'a str,
    os_type: &'a str,
    product_line_id: &'a str,
    api_type: &'a str,
    api_version: &'a str,
    instance_uuid: Option<&'a str>,
    license_product_name: Option<&'a str>,
    license_product_version: Option<&'a str>,
}

async fn body(args: Args) -> Result<()> {
    let conn = args.common.connect().await?;
    let a = &conn.content().about;
    let about = About {
        name: &a.name,
        full_name: &a.full_name,
        vendor: &a.vendor,
        version: &a.version,
        build: &a.build,
        os_type: &a.os_type,
        product_line_id: &a.product_line_id,
        api_type: &a.api_type,
        api_version: &a.api_version,
        instance_uuid: a.instance_uuid.as_deref(),
        license_product_name: a.license_product_name.as_deref(),
        license_product_version: a.license_product_version.as_deref(),
    };
    if conn.json {
        output::json(&about)?;
    } else {
        let mut t = output::Table::new(&["Field", "Value"]);
        t.row(["Name", about.name])
            .row(["Vendor", about.vendor])
            .row(["Version", about.version])
            .row(["Build", about.build])
            .row(["OS type", about.os_type])
            .row(["API type", about.api_type])
            .row(["API version", about.api_version])
            .row(["Product ID", about.product_line_id])
            .row(["UUID", about.instance_uuid.unwrap_or("-")]);
        t.print()?;
    }
    conn.close().await
}

/// The `about` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> std::process::ExitCode {
    crate::run(body)
}
