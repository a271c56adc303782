"""The replica's French vocabulary: ranked word forms sampled with a Zipf–Mandelbrot law.

Ranks, most frequent first: real French function words; then real news lemmas with their
real inflections (plurals, feminines, conjugations, accents, hyphenated compounds), shuffled
with a fixed seed; then a long synthetic tail of French-looking forms built from syllables
and real French suffixes. Proper nouns (people, places, institutions) are a separate ranked
list. Everything is built from the hand-written lists below with a fixed seed: no dictionary
file is read, and two processes always get the same vocabulary.

Sampling weight of rank r: (r + 2.7)^-1.05 over the real forms (function words then carry
about half the tokens, as in French news), then a steeper decay (r^-1.6 from the last real
form) over the synthetic tail, which thus makes about an eighth of the tokens.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from functools import cached_property, lru_cache

FUNCTION_WORDS = (
    "de la le et les des en du un à une est que pour qui dans a par sur au il pas plus ne se "
    "ce avec sont ont son sa ses aux elle mais ou on été comme leur leurs nous y tout tous "
    "cette ces être sans entre depuis selon après avant aussi encore déjà lors où dont si "
    "même très peu bien contre sous vers chez ainsi alors donc car lui eux ils elles vous je "
    "notre nos votre celui celle ceux cela quand lorsque jusque puis toujours jamais moins "
    "autre autres deux trois quatre cinq six dix vingt cent mille chaque plusieurs certains "
    "certaines quelques aucun aucune pendant durant parmi malgré près loin ici là hier "
    "demain désormais notamment néanmoins cependant toutefois afin auprès face sein cours "
    "part fois également puisque tant tel telle toute toutes rien personne"
).split()

# Nouns: (singular, plural) built by rule unless given as "sing/plur".
NOUNS = (
    "armée élection information région présidence commission assemblée opposition "
    "population situation sécurité économie politique société santé éducation justice crise "
    "guerre paix frontière capitale ville campagne réforme loi constitution décision "
    "déclaration manifestation grève violence victime enquête police gendarmerie force "
    "troupe attaque menace négociation coopération croissance inflation dette banque "
    "entreprise agriculture récolte pluie sécheresse inondation école université famille "
    "femme jeunesse vie mort maladie épidémie vaccination semaine année ressource mine "
    "route autorité administration procédure plainte condamnation mobilisation marche "
    "coalition majorité minorité session séance réunion conférence visite rencontre "
    "délégation mission opération offensive riposte unité zone région province commune "
    "localité industrie usine production exportation importation taxe subvention aide "
    "pauvreté richesse énergie électricité eau pêche pirogue migration diaspora "
    "gouvernement ministère pays état parlement conseil parti scrutin vote budget projet "
    "accord traité conflit régime pouvoir territoire continent marché prix emploi chômage "
    "salaire secteur investissement développement procès rapport document programme "
    "sommet dialogue village quartier port aéroport réseau téléphone pétrole gaz cacao "
    "coton riz poisson transport bus train pont barrage drone missile renseignement "
    "monument hommage soutien pacte déploiement affrontement incident ordre engagement "
    "front peuple acte cadre mois jour siècle moment temps niveau nombre taux chiffre "
    "milliard million franc euro dollar bilan débat discours communiqué décret arrêté "
    "mandat référendum recensement cessez-le-feu porte-parole week-end chef-lieu "
    "match championnat stade festival concert film livre artiste musée patrimoine "
    "hôpital/hôpitaux journal/journaux tribunal/tribunaux signal/signaux général/généraux "
    "bureau/bureaux niveau/niveaux réseau/réseaux jeu/jeux feu/feux pays/pays prix/prix "
    "cas/cas mois/mois temps/temps procès/procès discours/discours corps/corps "
    "œil/yeux travail/travaux œuvre sœur cœur"
).split()

# Persons: masculine, feminine (rule-built unless given as "m/f").
PERSONS = (
    "président candidat député citoyen habitant électeur/électrice directeur/directrice "
    "étudiant avocat enseignant militant agriculteur/agricultrice commerçant "
    "sénateur/sénatrice acteur/actrice chanteur/chanteuse joueur/joueuse ministre/ministre "
    "journaliste/journaliste responsable/responsable dirigeant partisan représentant "
    "élu habitant ressortissant manifestant opposant allié adversaire/adversaire "
    "vice-président ex-président ex-ministre/ex-ministre co-fondateur/co-fondatrice "
    "juge/juge maire/maire soldat/soldate militaire/militaire policier/policière "
    "pêcheur/pêcheuse éleveur/éleveuse entraîneur/entraîneuse auteur/autrice "
    "chercheur/chercheuse médecin/médecin infirmier/infirmière ouvrier/ouvrière "
    "paysan/paysanne lycéen/lycéenne musicien/musicienne"
).split()

# Adjectives: masculine singular; feminine and plurals built by rule unless "m/f/mpl/fpl".
ADJECTIVES = (
    "électoral national international régional présidentiel militaire politique économique "
    "social public/publique/publics/publiques nouveau/nouvelle/nouveaux/nouvelles ancien "
    "coréen nord-coréen sud-coréen russe ukrainien sénégalais ivoirien camerounais malien "
    "burkinabè guinéen africain européen américain français chinois officiel confidentiel "
    "stratégique mutuel informel spécial strict actif initial grand petit premier dernier "
    "important récent principal général local rural urbain sanitaire humanitaire agricole "
    "culturel sportif judiciaire constitutionnel parlementaire gouvernemental diplomatique "
    "sécuritaire financier pétrolier minier côtier fort long/longue/longs/longues large "
    "libre gratuit jeune majeur célèbre populaire démocratique autoritaire civil pénal "
    "fiscal monétaire budgétaire commercial industriel numérique énergétique solaire "
    "électrique massif violent pacifique inquiet certain possible nécessaire difficile "
    "facile historique inédit complet/complète/complets/complètes sous-régional "
    "pro-gouvernemental franco-sénégalais sino-africain blessé tué déployé successif "
    "influent direct stratégique humain moral vital légal illégal réel total"
).split()

FIRST_GROUP_VERBS = (
    "déclarer annoncer affirmer estimer indiquer expliquer rappeler souligner dénoncer "
    "réclamer demander organiser lancer signer voter gagner remporter participer tuer "
    "blesser évacuer transporter placer rapatrier contribuer diminuer écarter évoquer "
    "tomber signaler attribuer saluer exprimer assumer manifester protester arrêter "
    "condamner juger accuser présenter adopter examiner financer inaugurer visiter "
    "rencontrer discuter négocier renforcer développer lutter menacer attaquer sauver "
    "aider accompagner former recruter augmenter baisser chuter progresser enregistrer "
    "confirmer assurer exiger proposer accepter refuser décider préparer continuer "
    "commencer terminer achever quitter arriver rester passer porter apporter présider "
    "gouverner diriger contrôler surveiller mobiliser céder espérer répéter considérer "
    "célébrer tempérer protéger révéler libérer lever mener acheter appeler jeter "
    "déployer employer payer envoyer engager changer partager encourager"
).split()

SECOND_GROUP_VERBS = (
    "garantir investir agir réussir choisir finir fournir réunir établir saisir "
    "accomplir définir enrichir affaiblir grandir"
).split()

IRREGULAR_VERBS = (
    "être est sont était étaient sera seront serait seraient été étant soit soient fut",
    "avoir ont avait avaient aura auront aurait auraient eu eue eus ayant ait",
    "faire fait font faisait faisaient fera feront ferait faite faits faites faisant",
    "dire dit disent disait disaient dira diront dirait dite dites disant",
    "pouvoir peut peuvent pouvait pouvaient pourra pourront pourrait pourraient pu",
    "devoir doit doivent devait devaient devra devront devrait devraient dû due",
    "vouloir veut veulent voulait voulaient voudra voudrait voulu",
    "aller va vont allait allaient ira iront irait allé allée allés",
    "venir vient viennent venait venaient viendra viendrait venu venue venus",
    "prendre prend prennent prenait prenaient prendra prendrait pris prise prises",
    "mettre met mettent mettait mettaient mettra mis mise mises",
    "voir voit voient voyait voyaient verra verrait vu vue vus",
    "savoir sait savent savait savaient saura saurait su",
    "tenir tient tiennent tenait tenaient tiendra tenu tenue",
    "soutenir soutient soutiennent soutenait soutiendra soutenu soutenue soutenus",
    "reconnaître reconnaît reconnaissent reconnaissait reconnu reconnue reconnus",
    "promettre promet promettent promettait promis promise",
    "prévoir prévoit prévoient prévoyait prévu prévue prévus",
    "construire construit construisent construisait construite construits",
    "élire élit élisent élisait élu élue élus élues",
    "émettre émet émettent émettait émis émise",
    "appartenir appartient appartiennent appartenait appartiendraient",
    "prévenir prévient préviennent prévenait prévenu",
    "combattre combat combattent combattait combattu combattant combattants",
    "rejoindre rejoint rejoignent rejoignait rejointe",
    "démentir dément démentent démentait démenti",
    "défendre défend défendent défendait défendu défendue",
    "rendre rend rendent rendait rendu rendue",
    "attendre attend attendent attendait attendu attendue attendus",
    "perdre perd perdent perdait perdu perdue",
    "répondre répond répondent répondait répondu",
    "suivre suit suivent suivait suivi suivie",
    "vivre vit vivent vivait vécu",
    "mourir meurt meurent mourait mort morte morts",
    "ouvrir ouvre ouvrent ouvrait ouvert ouverte ouverts",
    "offrir offre offrent offrait offert offerte",
    "produire produit produisent produisait produite",
    "réduire réduit réduisent réduisait réduite",
    "permettre permet permettent permettait permis",
    "comprendre comprend comprennent comprenait compris",
    "obtenir obtient obtiennent obtenait obtenu obtenue",
    "maintenir maintient maintiennent maintenait maintenu",
    "devenir devient deviennent devenait devenu devenue",
    "intervenir intervient interviennent intervenait intervenu",
    "partir part partent partait parti partie partis",
    "recevoir reçoit reçoivent recevait reçu reçue",
    "paraître paraît paraissent paraissait paru",
    "connaître connaît connaissent connaissait connu connue",
    "croire croit croient croyait cru",
)

EXTRA_FORMS = (
    "peut-être lui-même elle-même eux-mêmes au-delà après-midi arrière-pays grand-mère "
    "vingt-quatre trente-cinq quarante-huit soixante-dix anti-corruption non-violence "
    "sous-région sous-régions vice-présidente vice-présidents auto-entrepreneur "
    "auto-entrepreneurs micro-crédit micro-crédits chefs-lieux week-ends"
).split()

PEOPLE = (
    "Macky Sall", "Bassirou Diomaye Faye", "Ousmane Sonko", "Alassane Ouattara", "Paul Biya",
    "Kim Jong-un", "Lee Seong-kweun", "Vladimir Poutine", "Emmanuel Macron",
    "Volodymyr Zelensky", "Yoon Suk-yeol", "Moon Jae-in", "Xi Jinping", "Abdoulaye Wade",
    "Amadou Ba", "Idrissa Seck", "Khalifa Sall", "Laurent Gbagbo", "Guillaume Soro",
    "Henri Konan Bédié", "Cyril Ramaphosa", "Paul Kagame", "Félix Tshisekedi",
    "Assimi Goïta", "Ibrahim Traoré", "Abdourahamane Tiani", "Mahamat Idriss Déby",
    "Bola Tinubu", "Nana Akufo-Addo", "Sadio Mané", "Kalidou Koulibaly", "Aliou Cissé",
    "Didier Drogba", "Samuel Eto’o", "Aminata Touré", "Antonio Guterres",
    "Moussa Faki Mahamat", "Youssou N’Dour", "Aya Nakamura", "Angélique Kidjo",
)

PLACES = (
    "Sénégal", "Dakar", "Thiès", "Saint-Louis", "Ziguinchor", "Touba", "Kaolack", "Casamance",
    "Côte d’Ivoire", "Abidjan", "Yamoussoukro", "Bouaké", "San-Pédro", "Korhogo", "Cameroun",
    "Yaoundé", "Douala", "Bamenda", "Garoua", "Mali", "Bamako", "Burkina Faso", "Ouagadougou",
    "Niger", "Niamey", "Guinée", "Conakry", "Guinée-Bissau", "Gambie", "Mauritanie",
    "Nouakchott", "Togo", "Lomé", "Bénin", "Cotonou", "Porto-Novo", "Ghana", "Accra",
    "Nigeria", "Lagos", "Abuja", "Kinshasa", "Brazzaville", "Libreville", "Gabon", "Tchad",
    "Addis-Abeba", "Éthiopie", "Nairobi", "Kenya", "Kigali", "Rwanda", "Afrique du Sud",
    "Johannesburg", "Égypte", "Le Caire", "Algérie", "Alger", "Tunisie", "Tunis", "Maroc",
    "Rabat", "Casablanca", "Paris", "France", "Bruxelles", "Belgique", "Genève", "Washington",
    "New York", "États-Unis", "Moscou", "Russie", "Pékin", "Chine", "Séoul", "Pyongyang",
    "Corée du Nord", "Corée du Sud", "Corée", "Tokyo", "Japon", "Ukraine", "Kyiv", "Koursk",
    "Sahel", "Afrique", "Europe", "Île-de-France", "Saly", "Mbour", "Rufisque", "Pikine",
)

INSTITUTIONS = (
    "ONU", "Union africaine", "CEDEAO", "UEMOA", "FMI", "Banque mondiale", "OMS", "Unicef",
    "Assemblée nationale", "Conseil constitutionnel", "KCNA", "AFP", "BCEAO", "Otan",
    "Union européenne", "Cour suprême", "Sénelec", "Air Sénégal", "Port autonome de Dakar",
    "Conseil de sécurité", "Cour pénale internationale", "Croix-Rouge", "Pastef",
)

ELISIONS = {
    "le": "l", "la": "l", "de": "d", "que": "qu", "ne": "n", "se": "s", "ce": "c", "je": "j",
    "jusque": "jusqu", "lorsque": "lorsqu", "puisque": "puisqu",
}
_VOWEL_START = frozenset("aeiouyhâàäéèêëîïôöûùüœ")

_ONSETS = (
    "b c d f g j l m n p r s t v ch br cr dr fr gr pr tr pl cl bl gl fl vr st sp gu qu"
).split()
_NUCLEI = "a a e i o u é é ou ai au eu an on in en oi".split()
_CODAS = ("r", "l", "n", "t", "c", "s", "m", "d", "v", "gn", "rt", "ss", "nd", "ll")
_TAIL_SUFFIXES: tuple[tuple[str, ...], ...] = (
    ("ation", "ations"),
    ("ement", "ements"),
    ("ique", "iques"),
    ("eur", "eurs", "euse", "euses"),
    ("er", "é", "ée", "és", "ées", "ait", "aient", "ent", "ant", "era"),
    ("iste", "istes", "isme"),
    ("age", "ages"),
    ("ité", "ités"),
    ("el", "elle", "els", "elles"),
    ("ence", "ences", "ent", "ente"),
    ("oir", "oirs"),
    ("ure", "ures"),
    ("ier", "iers", "ière", "ières"),
)
_TAIL_STEMS = 21_000
_SEED = 20_260_124
HEAD_EXPONENT = 1.05
TAIL_EXPONENT = 1.6
MANDELBROT_SHIFT = 2.7


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "z")):
        return word
    if word.endswith(("eau", "eu")):
        return word + "x"
    if word.endswith("al"):
        return word[:-2] + "aux"
    return word + "s"


def _feminine(word: str) -> str:
    for ending, replacement in (
        ("eur", "euse"), ("ien", "ienne"), ("éen", "éenne"), ("on", "onne"), ("el", "elle"),
        ("if", "ive"), ("ier", "ière"), ("er", "ère"), ("et", "ète"), ("eux", "euse"),
    ):
        if word.endswith(ending):
            return word[: -len(ending)] + replacement
    return word if word.endswith("e") else word + "e"


def _noun_forms(entry: str) -> list[str]:
    if "/" in entry:
        return entry.split("/")
    return [entry, _plural(entry)]


def _person_forms(entry: str) -> list[str]:
    masculine, feminine = entry.split("/") if "/" in entry else (entry, _feminine(entry))
    return [masculine, feminine, _plural(masculine), feminine + "s"]


def _adjective_forms(entry: str) -> list[str]:
    if "/" in entry:
        return entry.split("/")
    feminine = _feminine(entry)
    plural = entry[:-2] + "aux" if entry.endswith("al") else _plural(entry)
    return [entry, feminine, plural, feminine + "s"]


def _first_group_forms(infinitive: str) -> list[str]:
    stem = infinitive[:-2]
    hard = stem
    if stem.endswith("c"):
        hard = stem[:-1] + "ç"
    elif stem.endswith("g"):
        hard = stem + "e"
    strong = stem
    if stem.endswith(("el", "et")) and infinitive in ("appeler", "rappeler", "jeter"):
        strong = stem + stem[-1]
    elif "é" in stem[-3:]:
        index = stem.rfind("é")
        strong = stem[:index] + "è" + stem[index + 1:]
    elif stem.endswith(("ev", "en", "et")):
        strong = stem[:-2] + "è" + stem[-1]
    future = strong if strong.endswith(("ll", "tt")) else stem
    if stem.endswith("oy"):
        strong = stem[:-1] + "i"
        future = strong
    forms = [
        infinitive, strong + "e", strong + "es", strong + "ent", hard + "ons", stem + "ez",
        stem + "é", stem + "ée", stem + "és", stem + "ées", hard + "ait", hard + "aient",
        hard + "ant", future + "era", future + "eront", future + "erait", future + "eraient",
        hard + "a", stem + "èrent", stem + "ions",
    ]
    if infinitive == "envoyer":
        forms = [form for form in forms if not form.startswith("envoier")]
        forms += ["enverra", "enverront", "enverrait", "enverraient"]
    return forms


def _second_group_forms(infinitive: str) -> list[str]:
    stem = infinitive[:-2]
    endings = ("ir", "is", "it", "issons", "issez", "issent", "i", "ie", "ies", "issait",
               "issaient", "issant", "ira", "iront", "irait", "issement")
    return [stem + ending for ending in endings]


def news_forms() -> list[str]:
    """Return the real French forms of the news lemmas, in a fixed order, without repeats."""
    forms: list[str] = []
    for entry in NOUNS:
        forms += _noun_forms(entry)
    for entry in PERSONS:
        forms += _person_forms(entry)
    for entry in ADJECTIVES:
        forms += _adjective_forms(entry)
    for verb in FIRST_GROUP_VERBS:
        forms += _first_group_forms(verb)
    for verb in SECOND_GROUP_VERBS:
        forms += _second_group_forms(verb)
    for line in IRREGULAR_VERBS:
        forms += line.split()
    forms += EXTRA_FORMS
    function_words = set(FUNCTION_WORDS)
    return [form for form in dict.fromkeys(forms) if form not in function_words]


def _tail_forms(rng: random.Random, taken: set[str]) -> list[str]:
    forms: list[str] = []
    stems = 0
    while stems < _TAIL_STEMS:
        syllables = rng.choice((2, 2, 2, 3))
        stem = "".join(rng.choice(_ONSETS) + rng.choice(_NUCLEI) for _ in range(syllables))
        stem += rng.choice(_CODAS)
        if stem in taken:
            continue
        taken.add(stem)
        stems += 1
        family = rng.choice(_TAIL_SUFFIXES)
        for suffix in family[: rng.randint(max(1, len(family) // 2), len(family))]:
            form = stem + suffix
            if form not in taken:
                taken.add(form)
                forms.append(form)
    return forms


@dataclass(frozen=True)
class Vocabulary:
    """Ranked word forms with cumulative Zipf–Mandelbrot weights, ready for sampling."""

    forms: tuple[str, ...]
    cumulative: tuple[float, ...]
    proper_nouns: tuple[str, ...]
    proper_cumulative: tuple[float, ...]
    people: tuple[str, ...]
    head_size: int
    news_size: int

    def words(self, rng: random.Random, count: int) -> list[str]:
        """Draw COUNT word forms (lower case) by Zipf rank."""
        return rng.choices(self.forms, cum_weights=self.cumulative, k=count)

    def proper_noun(self, rng: random.Random) -> str:
        """Draw one proper noun (person, place or institution) by Zipf rank."""
        return rng.choices(self.proper_nouns, cum_weights=self.proper_cumulative, k=1)[0]

    def person(self, rng: random.Random) -> str:
        """Draw one public figure's name."""
        return rng.choice(self.people)

    @cached_property
    def ranks(self) -> dict[str, int]:
        """Return the 1-based rank of every form."""
        return {form: rank for rank, form in enumerate(self.forms, start=1)}

    def rank(self, form: str) -> int:
        """Return the 1-based rank of FORM, or 0 if it is not in the vocabulary."""
        return self.ranks.get(form, 0)

    def probability(self, rank: int) -> float:
        """Return the sampling probability of the form at 1-based RANK."""
        low = self.cumulative[rank - 2] if rank > 1 else 0.0
        return (self.cumulative[rank - 1] - low) / self.cumulative[-1]

    def find(self, probability: float) -> int:
        """Return the 1-based rank whose cumulative probability first reaches PROBABILITY."""
        return bisect.bisect_left(self.cumulative, probability * self.cumulative[-1]) + 1


def _weights(size: int, knee: int) -> list[float]:
    weights = []
    knee_weight = 1.0 / (knee + MANDELBROT_SHIFT) ** HEAD_EXPONENT
    for rank in range(1, size + 1):
        if rank <= knee:
            weights.append(1.0 / (rank + MANDELBROT_SHIFT) ** HEAD_EXPONENT)
        else:
            weights.append(knee_weight * (knee / rank) ** TAIL_EXPONENT)
    return weights


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """Return the replica's vocabulary (built once per process, always the same)."""
    rng = random.Random(_SEED)
    head = list(dict.fromkeys(FUNCTION_WORDS))
    news = news_forms()
    rng.shuffle(news)
    taken = set(head) | set(news)
    tail = _tail_forms(rng, taken)
    forms = tuple(head + news + tail)
    cumulative = tuple(itertools.accumulate(_weights(len(forms), len(head) + len(news))))
    proper = list(PLACES + PEOPLE + INSTITUTIONS)
    rng.shuffle(proper)
    proper_weights = [1.0 / (rank + 1.0) for rank in range(1, len(proper) + 1)]
    return Vocabulary(
        forms=forms,
        cumulative=cumulative,
        proper_nouns=tuple(proper),
        proper_cumulative=tuple(itertools.accumulate(proper_weights)),
        people=PEOPLE,
        head_size=len(head),
        news_size=len(news),
    )


def elide(words: list[str], rng: random.Random) -> list[str]:
    """Merge elidable words with a following vowel or mute-h word (l'armée, qu'il, jusqu'à)."""
    result: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        following = words[index + 1] if index + 1 < len(words) else ""
        short = ELISIONS.get(word)
        if short and following and following[0].lower() in _VOWEL_START:
            apostrophe = "’" if rng.random() < 0.4 else "'"
            result.append(short + apostrophe + following)
            index += 2
            continue
        result.append(word)
        index += 1
    return result
