"""Notes of a fiche: the ones its data call for, and the methodology of the national fiche."""

from __future__ import annotations

from dataclasses import dataclass

from trade_pipeline.aggregation.reads import TerritoryData
from trade_pipeline.fiches.prose import HHI_HIGH, HHI_MODERATE
from trade_pipeline.lib import french
from trade_pipeline.lib.provenance import SYNTHETIC_LABEL

#: Above this share of imports, energy (crude, gas, refined products, electricity) points to a
#: port, a refinery or an energy terminal; the balance « hors énergie » says more.
ENERGY_SHARE_NOTE = 0.15
#: Above this share of exports, one product (A129) drives the total: aircraft, ships, drugs…
CONCENTRATION_NOTE = 0.35
OVERSEAS = {"departement-9A", "departement-9B", "departement-9C", "departement-9D", "departement-9E", "region-24"}


@dataclass(frozen=True)
class Note:
    kind: str
    title: str
    text: str


def data_notes(data: TerritoryData) -> list[Note]:
    notes = []
    territory = data.territory
    if data.synthetic:
        notes.append(Note("synthetic", "Données fictives de démonstration",
                          f"Les chiffres de cette fiche sont des {SYNTHETIC_LABEL} générées par trade_pipeline au "
                          "format exact des fichiers de la DGDDI. Seuls les totaux 2024 de l'Hérault, de l'Occitanie "
                          "et de la France reproduisent les chiffres publiés."))
    energy = data.exposure.get("energy_share_of_imports")
    if energy is not None and energy > ENERGY_SHARE_NOTE:
        balance = data.totals["balance_excl_energy_eur"]
        notes.append(Note("energy", "Effet port, raffinerie ou terminal énergétique",
                          f"L'énergie (hydrocarbures, produits pétroliers raffinés, électricité) représente "
                          f"{french.pct(energy)} des importations {territory.of}. Les produits énergétiques "
                          "sont comptés là où ils entrent réellement (port, raffinerie, dépôt), souvent pour être "
                          f"consommés ailleurs. Hors énergie, le solde commercial est de {french.signed_eur(balance)}."))
    first_share = data.exposure.get("exports_first_product_share")
    if first_share is not None and first_share > CONCENTRATION_NOTE:
        code = data.exposure["exports_first_product_code"]
        products = data.products[(data.products["flow"] == "E") & (data.products["product_code"] == code)]
        product = products["short"].iloc[0] if len(products) else code
        notes.append(Note("concentration", "Exportations concentrées",
                          f"Un seul produit, « {product} », représente {french.pct(first_share)} des exportations "
                          f"{territory.of}. Quelques livraisons — des avions, des navires, des lots de médicaments — suffisent "
                          "alors à faire varier fortement le total d'une année à l'autre."))
    if data.key in ("departement-75", "region-03"):
        notes.append(Note("paris", "Gaz et électricité attribués à Paris",
                          "Par convention de la DGDDI, le gaz naturel acheminé par gazoduc et l'électricité importés "
                          "sont attribués à Paris (75), donc à l'Île-de-France : les importations de Paris en sont "
                          "gonflées, sans lien avec son activité propre."))
    if data.key in OVERSEAS:
        notes.append(Note("overseas", "Départements d'outre-mer",
                          "Les statistiques des DOM ne couvrent que leurs échanges avec l'étranger : le commerce avec "
                          "la France métropolitaine et avec les autres DOM en est exclu."))
    if data.key in ("departement-99", "region-21"):
        notes.append(Note("monaco", "Monaco",
                          "La Principauté de Monaco a son propre code (99) dans les fichiers de la DGDDI et est "
                          "comptée dans la région Provence-Alpes-Côte d'Azur."))
    if data.key in ("departement-20", "region-22"):
        notes.append(Note("corsica", "Corse",
                          "Les fichiers de la DGDDI ne distinguent pas la Corse-du-Sud et la Haute-Corse : la Corse "
                          "est présentée comme une seule unité (code 20)."))
    return notes


METHODOLOGY = [
    ("Source", "DGDDI, statistiques régionales et départementales du commerce extérieur (données annuelles, "
               "Licence Ouverte 2.0). Données brutes de collecte : hors matériel militaire, hors or monétaire, hors "
               "échanges intra-UE des opérateurs sous le seuil de déclaration et sans estimation de la non-réponse."),
    ("Localisation", "Les exportations sont attribuées au département d'où les marchandises sont expédiées, les "
                     "importations au département de destination réelle — pas au siège de l'entreprise. Un port, "
                     "une plateforme logistique ou un site de dédouanement peut donc concentrer des flux destinés à "
                     "d'autres territoires ; il n'y a pas de détail infra-départemental."),
    ("Valeurs", "Exportations FAB (franco à bord), importations CAF (coût, assurance, fret) : le solde est calculé "
                "sur cette base CAF/FAB, qui le tire vers le déficit."),
    ("Parts", "La part de la région et celle de la France rapportent les totaux du territoire à ceux de la région et "
              "de la France calculés sur les mêmes fichiers (somme de tous les départements), et non au chiffre "
              "national publié par ailleurs (FAB/FAB, corrigé des variations saisonnières)."),
    ("« Autres »", "Dans les diagrammes de flux, « Autres » est calculé comme le total moins les flux listés, de "
                   "sorte que les flux affichés s'additionnent exactement au total ; il inclut les codes qui ne "
                   "sont pas des pays (UE non ventilée, avitaillement, pays non déterminés)."),
    ("Énergie", "Produits énergétiques : houille, hydrocarbures naturels, produits pétroliers raffinés et "
                "coke, électricité et gaz (A129 B05Z, B06Z, C19Z, D35)."),
    ("Rupture de 2022", "Depuis janvier 2022 l'enquête EMEBI remplace la déclaration d'échanges de biens pour les "
                        "échanges intra-UE : les évolutions entre 2021 et 2022 sont à lire avec prudence."),
]


#: The « Définitions » box: the words of the fiche a reader may not know.
DEFINITIONS = [
    ("A129", "Nomenclature agrégée de l'Insee en 129 postes (NA 2008) : les produits y sont regroupés par activité "
             "qui les produit. Les « activités » et « produits » des graphiques sont des postes A129, sous un nom "
             "court."),
    ("CPF4", "Classification des produits française, niveau à 4 chiffres (environ 575 postes, révision 2.1) : le "
             "niveau le plus fin des données départementales ; chaque poste CPF4 appartient à un poste A129."),
    ("FAB, CAF", "Les exportations sont valorisées FAB (franco à bord : à la frontière, sans le transport au-delà), "
                 "les importations CAF (coût, assurance, fret : transport et assurance jusqu'à la frontière compris). "
                 "Le solde FAB − CAF est donc un peu plus défavorable que l'écart réel des valeurs."),
    ("Indice de Herfindahl", "Somme des carrés des parts des clients (ou des produits) dans les exportations : "
                             "proche de 0 quand elles sont très dispersées, 1 quand un seul client (ou produit) "
                             f"les reçoit toutes. La fiche dit la concentration faible sous {french.number(HHI_MODERATE, 2)}, "
                             f"modérée de {french.number(HHI_MODERATE, 2)} à {french.number(HHI_HIGH, 2)} et forte "
                             "au-delà, seuils usuels des autorités de la concurrence."),
    ("Part du produit", "Dans le focus États-Unis, la part des exportations (importations) d'un produit du "
                        "territoire qui va vers les États-Unis (qui en vient)."),
    ("Contribution, en points", "Ce qu'un pays ou une activité apporte au taux d'évolution des échanges : les "
                                "contributions s'additionnent pour donner l'évolution totale, en %."),
    ("Solde hors énergie", "Le solde commercial sans les produits énergétiques (voir Énergie ci-dessous), "
                           "souvent importés par un port ou une raffinerie pour être consommés ailleurs."),
]
