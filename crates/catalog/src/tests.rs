use super::*;

fn cic() -> &'static Catalog {
    Catalog::for_role("cic").unwrap()
}

#[test]
fn both_embedded_catalogs_load_and_are_consistent() {
    assert!(cic().components.len() >= 30);
    let media = Catalog::for_role("MEDIA").unwrap();
    let ids: Vec<_> = media.components.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "Media Configuration",
            "Media Certificates",
            "Media Resources"
        ]
    );
    assert!(matches!(
        Catalog::for_role("edge"),
        Err(CatalogError::UnknownRole(_))
    ));
}

#[test]
fn cic_catalog_covers_every_component_the_references_name() {
    for name in [
        "Users",
        "Workgroups",
        "Roles",
        "Stations",
        "Workstations",
        "Lines",
        "Line Groups",
        "Dial Plan",
        "Server Parameters",
        "Structured Parameters",
        "IP Tables",
        "DNIS Mappings",
        "Mail Providers",
        "Data Sources",
        "Client Buttons",
        "Reports",
        "Attendant Profiles",
        "Attendant Waves",
        "Prompts",
        "IP\\Handlers",
        "<Server>\\IP",
        "Managed IP Phones",
        "IP Phones",
        "IP Phone Proxy Groups",
        "Interaction Recorder",
        "Recorder Master Key File",
        "IPA",
        "AdminConfig",
        "Tracker Config",
        "LRA Configuration",
        "Client Settings",
        "Dialer",
        "Registration Groups",
    ] {
        assert!(cic().component(name).is_some(), "{name}");
    }
}

fn close(names: &[&str]) -> Selection {
    let ids = cic().resolve(names).unwrap();
    cic().close(&ids)
}

fn added(sel: &Selection) -> Vec<(&str, &str)> {
    sel.added
        .iter()
        .map(|a| (a.id.as_str(), a.required_by.as_str()))
        .collect()
}

#[test]
fn closure_follows_the_design_rules() {
    assert_eq!(added(&close(&["Users"])), [("Workgroups", "Users")]);
    let admin = close(&["AdminConfig"]);
    for id in ["Users", "Workstations", "Tracker Config", "Workgroups"] {
        assert!(
            admin.ids.iter().any(|i| i == id),
            "{id} missing from {:?}",
            admin.ids
        );
    }
    assert_eq!(
        added(&close(&["IP Phones"])),
        [("IP Phone Proxy Groups", "IP Phones")]
    );
    assert_eq!(
        added(&close(&["Recorder Master Key File"])),
        [("Interaction Recorder", "Recorder Master Key File")]
    );
    assert_eq!(added(&close(&["IPA"])), [("IPA Settings", "IPA Processes")]);
    assert_eq!(
        added(&close(&["IPA Settings"])),
        [("IPA Processes", "IPA Settings")]
    );
}

#[test]
fn mutual_pair_closes_from_either_side() {
    assert_eq!(
        added(&close(&["IP\\Handlers"])),
        [("Server IP", "IP\\Handlers")]
    );
    assert_eq!(
        added(&close(&["<Server>\\IP"])),
        [("IP\\Handlers", "Server IP")]
    );
    let both = close(&["Handlers", "Server IP"]);
    assert!(both.added.is_empty());
    assert_eq!(both.ids, ["IP\\Handlers", "Server IP"]);
}

#[test]
fn explanations_name_both_components() {
    let sel = close(&["IP Phones"]);
    assert_eq!(
        sel.added[0].explain(),
        "added IP Phone Proxy Groups: required by IP Phones (IP phones need their proxy groups to work after the import)"
    );
}

#[test]
fn all_and_lists_resolve_in_any_case() {
    assert_eq!(
        cic().resolve(&["ALL"]).unwrap().len(),
        cic().components.len()
    );
    assert_eq!(
        cic().resolve_list(" users , WORKGROUPS ").unwrap(),
        ["Users", "Workgroups"]
    );
    assert_eq!(cic().resolve(&["users", "Users"]).unwrap(), ["Users"]);
    assert_eq!(cic().resolve_list(" , "), Err(CatalogError::Empty));
}

#[test]
fn unknown_names_suggest_the_nearest() {
    let err = cic().resolve(&["Usres"]).unwrap_err();
    let CatalogError::Unknown { suggestions, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(suggestions[0], "Users");
    assert!(err.to_string().contains("did you mean `Users`"), "{err}");
    let err = cic().resolve(&["Workgroup"]).unwrap_err();
    assert!(err.to_string().contains("`Workgroups`"), "{err}");
    let err = cic().resolve(&["zzzzzzzz"]).unwrap_err();
    assert_eq!(err.to_string(), "unknown component `zzzzzzzz`");
}

#[test]
fn check_refuses_inconsistent_catalogs() {
    let mut broken = cic().clone();
    broken.components[0].rules.push("no-such-rule".into());
    assert!(broken.check().unwrap_err().contains("no-such-rule"));
    let mut broken = cic().clone();
    broken.components[0].requires.push("Nothing".into());
    assert!(broken.check().unwrap_err().contains("Nothing"));
    let mut broken = cic().clone();
    let dup = broken.components[1].id.clone();
    broken.components[0].aliases.push(dup);
    assert!(broken.check().unwrap_err().contains("twice"));
}
