"""Readable news articles written for the project: the replica serves them first when asked.

The demo's first look should be at articles a journalist can read, not at the seeded word
salad the benchmarks need. These stories are original French prose, plausible for a West
and Central African citizen-journalism platform: varied authors, editions, years and topics,
and a few copies (a communiqué taken up by several contributors, a text republished under
another name), as the real platform has. Each may carry the edits the demo makes between
two crawl passes: sentences corrected or removed, a new title, a paragraph added.

Nothing here may look like a platform line to the parser: no paragraph opens with « Par »
or « Publié le », and the phrases ``_FORBIDDEN`` lists in ``corpus.py`` never occur.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class StoryEdit:
    """One edit of a story: sentences replaced (an empty replacement removes), a new title."""

    replace: tuple[tuple[str, str], ...] = ()
    title: str | None = None
    append: str | None = None


@dataclass(frozen=True)
class Story:
    """One readable article: the facts the replica serves and the edits the demo makes."""

    title: str
    author: str
    edition: str
    published: str
    categories: tuple[str, ...]
    paragraphs: tuple[str, ...]
    edits: tuple[StoryEdit, ...] = ()

    @property
    def published_at(self) -> datetime:
        """Return the publication moment (``published`` is ``YYYY-MM-DD HH:MM``, UTC)."""
        return datetime.strptime(self.published, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def apply_edit(title: str, paragraphs: list[str], edit: StoryEdit) -> tuple[str, list[str]]:
    """Return TITLE and PARAGRAPHS after EDIT (a replaced sentence must be found)."""
    for old, new in edit.replace:
        for number, paragraph in enumerate(paragraphs):
            if old in paragraph:
                paragraphs[number] = " ".join(paragraph.replace(old, new).split())
                break
        else:
            raise ValueError(f"the edited sentence is not in the story: {old[:60]}")
    paragraphs = [p for p in paragraphs if p]
    if edit.append:
        paragraphs.append(edit.append)
    return edit.title or title, paragraphs


_WATER_NOTICE = (
    "La Société de distribution d'eau annonce une interruption de la fourniture d'eau "
    "potable à Yopougon, Attécoubé et dans une partie d'Adjamé, du samedi 6 heures au "
    "dimanche 18 heures. Les équipes doivent remplacer une conduite principale endommagée "
    "par les travaux de l'échangeur. Des camions-citernes stationneront devant les mairies "
    "et les centres de santé.",
    "La direction régionale demande aux habitants de constituer des réserves et de "
    "faire bouillir l'eau à la reprise du service pendant les premières heures. Les "
    "abonnés peuvent signaler une fuite ou une coupure prolongée au numéro vert de la "
    "société, joignable gratuitement jour et nuit.",
)

STORIES: tuple[Story, ...] = (
    Story(
        title="Keur Massar : les habitants de la cité Aliou Sow toujours les pieds dans l'eau",
        author="Aïssatou N'Diaye", edition="sn", published="2024-08-27 09:15",
        categories=("Société", "Environnement"),
        paragraphs=(
            "Trois jours après les fortes pluies de dimanche, une partie de la cité Aliou "
            "Sow, à Keur Massar, reste sous les eaux. Dans certaines ruelles, l'eau arrive "
            "encore aux genoux et les familles ont dû monter leurs matelas sur des briques.",
            "Les motopompes promises par la mairie sont arrivées mardi soir, mais deux sur "
            "quatre sont tombées en panne dès la première nuit. «\u00a0Nous pompons le jour, la "
            "nappe remonte la nuit\u00a0», résume Ndèye Coumba Faye, présidente de l'association "
            "des femmes du quartier.",
            "Selon la brigade des sapeurs-pompiers, 140 familles ont quitté leur maison pour "
            "s'installer chez des proches ou dans l'école élémentaire voisine. Le porte-parole "
            "du gouvernement a promis un plan d'urgence avant la fin de la semaine.",
        ),
        edits=(StoryEdit(replace=(
            ("140 familles", "212 familles"),
            ("Le porte-parole du gouvernement a promis un plan d'urgence avant la fin de la "
             "semaine.", "Le ministre de l'Hydraulique s'est rendu sur place jeudi et a "
             "annoncé l'envoi de six motopompes supplémentaires."),
        )),),
    ),
    Story(
        title="Yopougon : coupure d'eau annoncée ce week-end dans trois communes",
        author="Éric N'Guessan", edition="ci", published="2023-03-02 17:40",
        categories=("Société",),
        paragraphs=(*_WATER_NOTICE,
                    "Sur le marché de Siporex, les vendeuses de sachets d'eau s'attendent "
                    "déjà à une hausse des prix et plusieurs boulangeries ont prévenu "
                    "qu'elles fermeraient samedi."),
    ),
    Story(
        title="Abidjan : pas d'eau du samedi au dimanche à Yopougon, Attécoubé et Adjamé",
        author="Adjoua Kouamé", edition="ci", published="2023-03-03 07:05",
        categories=("Société",),
        paragraphs=_WATER_NOTICE,
    ),
    Story(
        title="Douala : au port, les camionneurs dénoncent des files d'attente de quatre jours",
        author="Jean-Pierre Mbarga", edition="cm", published="2022-11-14 10:20",
        categories=("Économie",),
        paragraphs=(
            "Sur la route qui mène au terminal à conteneurs de Douala, les camions sont "
            "garés en double file sur près de six kilomètres. Certains chauffeurs disent "
            "attendre depuis jeudi pour charger des marchandises destinées au Tchad et à la "
            "Centrafrique.",
            "«\u00a0On dort dans la cabine, on mange au bord de la route, et chaque jour d'attente "
            "nous coûte le prix du carburant\u00a0», explique Ibrahim Garba, transporteur depuis "
            "quinze ans. Les syndicats réclament l'ouverture d'un parking tampon et des "
            "guichets le dimanche.",
            "La direction du port explique ces retards par une panne de deux portiques et par "
            "l'arrivée simultanée de trois navires. Elle assure que la situation sera "
            "revenue à la normale d'ici dix jours.",
        ),
    ),
    Story(
        title="Saint-Louis : les pêcheurs de Guet Ndar face à l'avancée de la mer",
        author="Mamadou Lamine Diallo", edition="sn", published="2021-02-09 08:00",
        categories=("Environnement", "Société"),
        paragraphs=(
            "À Guet Ndar, la langue de Barbarie perd chaque année plusieurs mètres. Depuis "
            "l'hiver dernier, une vingtaine de maisons du quartier Pondokholé ont été "
            "emportées par les vagues, et les familles relogées à Diougob attendent toujours "
            "des titres de propriété.",
            "Les pêcheurs décrivent une mer plus violente et des sorties plus dangereuses. "
            "«\u00a0Avant, on connaissait la brèche. Maintenant elle change de place à chaque "
            "saison\u00a0», raconte Moussa Sarr, qui a perdu deux pirogues en trois ans.",
            "La digue de protection, longue de 3,5 kilomètres, devait être achevée en 2020. "
            "Les travaux ont repris au mois de janvier, selon l'agence chargée du chantier.",
        ),
    ),
    Story(
        title="Bouaké : le marché de gros rouvre ses portes après l'incendie",
        author="Kouassi Yao", edition="ci", published="2019-06-18 12:30",
        categories=("Économie", "Faits divers"),
        paragraphs=(
            "Cinq mois après l'incendie qui avait détruit près de trois cents magasins, le "
            "marché de gros de Bouaké a rouvert lundi. Les commerçantes d'igname et de "
            "banane plantain ont retrouvé leurs allées, désormais séparées par des "
            "coupe-feu en béton.",
            "Beaucoup n'ont pas encore reconstitué leur stock. «\u00a0J'ai tout perdu en une "
            "nuit. La coopérative m'a prêté de quoi recommencer, mais je dois rembourser "
            "avant la récolte\u00a0», confie Affoué Konan, grossiste depuis vingt ans.",
            "La mairie a installé des extincteurs à chaque entrée et promis une brigade de "
            "surveillance la nuit. Les commerçants demandent surtout que l'électricité soit "
            "enfin mise aux normes.",
        ),
    ),
    Story(
        title="Yaoundé : les enseignants vacataires en grève pour des arriérés de salaire",
        author="Geneviève Essomba", edition="cm", published="2023-10-04 15:10",
        categories=("Éducation",),
        paragraphs=(
            "Dans plusieurs lycées de Yaoundé, les salles de classe sont restées vides ce "
            "mardi. Les enseignants vacataires réclament le paiement de onze mois "
            "d'arriérés et leur intégration dans la fonction publique, promise depuis "
            "trois rentrées.",
            "«\u00a0Nous faisons le même travail que les titulaires pour un tiers du salaire, "
            "quand il arrive\u00a0», dit Théodore Nkoulou, professeur de mathématiques au lycée "
            "bilingue d'Etoug-Ebe. Les parents d'élèves, inquiets pour les examens, "
            "soutiennent pour la plupart le mouvement.",
            "Le ministère des Enseignements secondaires affirme qu'un premier versement "
            "sera effectué avant la fin du mois et appelle à la reprise des cours.",
        ),
        edits=(StoryEdit(
            replace=(("onze mois", "neuf mois"),),
            append="Le ministère a annoncé jeudi le paiement de trois mois d'arriérés. Les "
                   "syndicats maintiennent leur mot d'ordre jusqu'au versement complet.",
        ),),
    ),
    Story(
        title="Thiès : une coopérative de femmes relance la transformation du mil",
        author="Fatou Bintou Sène", edition="sn", published="2020-03-12 11:00",
        categories=("Économie", "Société"),
        paragraphs=(
            "Dans un hangar du quartier Mbour 3, une quarantaine de femmes décortiquent, "
            "lavent et sèchent le mil avant de le transformer en araw, en thiakry et en "
            "farine. Leur coopérative, née en 2017 avec cinq membres, livre aujourd'hui des "
            "boutiques de Thiès, de Dakar et de Mbour.",
            "Le moulin acheté grâce à un prêt de la mutuelle d'épargne a tout changé. "
            "«\u00a0Avant, on pilait à la main pendant des heures. Maintenant on peut traiter "
            "une tonne par semaine\u00a0», explique la présidente, Khady Gueye.",
            "La coopérative cherche désormais un emballage qui tienne plusieurs mois, "
            "condition pour vendre dans les supermarchés de la capitale.",
        ),
    ),
    Story(
        title="Korhogo : les producteurs de coton inquiets du retard des engrais",
        author="Seydou Coulibaly", edition="ci", published="2024-05-21 09:45",
        categories=("Économie",),
        paragraphs=(
            "À quelques semaines des semis, les engrais promis aux producteurs de coton de "
            "la région du Poro ne sont toujours pas arrivés dans les villages. Les "
            "responsables des coopératives craignent une baisse des rendements si la "
            "livraison tarde encore.",
            "«\u00a0Sans engrais au bon moment, on perd le tiers de la récolte\u00a0», explique "
            "Lacina Soro, producteur à Napiéolédougou. Certains planteurs se tournent déjà "
            "vers le maïs, moins exigeant.",
            "La société cotonnière assure que les camions ont quitté le port de San-Pédro "
            "et que la distribution commencera la semaine prochaine.",
        ),
    ),
    Story(
        title="Garoua : la campagne de vaccination contre la rougeole touche les villages reculés",
        author="Oumou Bello", edition="cm", published="2018-04-25 13:20",
        categories=("Santé",),
        paragraphs=(
            "Des équipes mobiles ont sillonné pendant dix jours les villages de la Bénoué "
            "pour vacciner les enfants de neuf mois à cinq ans contre la rougeole. Dans "
            "certaines localités, les agents ont dû traverser le fleuve en pirogue avec "
            "leurs glacières.",
            "Selon le délégué régional de la santé, plus de 180 000 enfants ont été "
            "vaccinés, soit près de neuf enfants sur dix de la tranche d'âge visée. Les "
            "chefs traditionnels ont joué un rôle décisif pour convaincre les familles.",
            "Une seconde phase est prévue dans le département du Faro, où l'insécurité "
            "avait retardé le passage des équipes.",
        ),
    ),
    Story(
        title="Ziguinchor : le retour des touristes redonne espoir aux campements de Casamance",
        author="Jean-Baptiste Mendy", edition="sn", published="2023-01-16 10:00",
        categories=("Économie", "Culture"),
        paragraphs=(
            "Au campement villageois d'Elinkine, les chambres sont presque toutes réservées "
            "jusqu'en mars. Après des années difficiles, les visiteurs reviennent en Basse "
            "Casamance, attirés par les bolongs, les îles et la cuisine aux huîtres.",
            "«\u00a0Nous avons repeint les cases et formé quatre jeunes comme guides\u00a0», "
            "raconte Augustin Diatta, gérant du campement. Les pirogues qui mènent à Karabane "
            "partent désormais deux fois par jour.",
            "Les professionnels demandent la réouverture de la liaison aérienne directe "
            "avec Dakar pendant toute la saison, et non plus seulement le week-end.",
        ),
    ),
    Story(
        title="San-Pédro : le prix du cacao bord champ fait enfin sourire les planteurs",
        author="Éric N'Guessan", edition="ci", published="2024-10-02 08:30",
        categories=("Économie",),
        paragraphs=(
            "Pour la campagne principale, le prix garanti aux producteurs de cacao a été "
            "relevé à 1 800 francs CFA le kilogramme, un niveau jamais atteint. Dans les "
            "plantations autour de San-Pédro, la nouvelle a été accueillie avec "
            "soulagement après deux années de récoltes médiocres.",
            "Les planteurs restent prudents. «\u00a0Le prix est bon, mais les pisteurs "
            "continuent de payer moins dans les villages éloignés\u00a0», prévient Yao Kouadio, "
            "délégué d'une coopérative de Méagui.",
            "Le Conseil du café-cacao promet des contrôles sur les bascules et des "
            "sanctions contre les acheteurs qui ne respectent pas le prix fixé.",
        ),
        edits=(StoryEdit(replace=(
            ("«\u00a0Le prix est bon, mais les pisteurs continuent de payer moins dans les "
             "villages éloignés\u00a0», prévient Yao Kouadio, délégué d'une coopérative de "
             "Méagui.", ""),
        )),),
    ),
    Story(
        title="Kribi : des pêcheurs artisanaux accusent les chalutiers de vider la côte",
        author="Hélène Ngo Bassa", edition="cm", published="2021-07-07 16:00",
        categories=("Environnement", "Économie"),
        paragraphs=(
            "Sur la plage de Londji, les pirogues rentrent souvent presque vides. Les "
            "pêcheurs artisanaux accusent des chalutiers industriels de travailler la nuit "
            "dans la zone des trois milles, pourtant réservée à la pêche traditionnelle.",
            "«\u00a0Ils arrachent nos filets et repartent avant le jour\u00a0», affirme Paul "
            "Ebongue, président du comité des pêcheurs. Des photos de bateaux tous feux "
            "éteints circulent dans les groupes de discussion du village.",
            "La délégation départementale des pêches dit avoir ouvert une enquête et "
            "demande aux pêcheurs de noter les noms et les heures de passage des navires.",
        ),
    ),
    Story(
        title="Kaolack : délestages à répétition, les commerçants du marché central excédés",
        author="Babacar Niang", edition="sn", published="2022-05-30 19:00",
        categories=("Économie", "Société"),
        paragraphs=(
            "Depuis deux semaines, le courant est coupé plusieurs heures par jour dans le "
            "centre de Kaolack. Au marché central, les vendeurs de poisson et de glace "
            "comptent leurs pertes, et les ateliers de couture tournent au ralenti.",
            "«\u00a0Je jette chaque soir ce que je n'ai pas vendu, mon congélateur ne tient "
            "pas\u00a0», se désole Astou Ndiaye, poissonnière. Les groupes électrogènes se "
            "vendent à prix d'or dans les quincailleries de la ville.",
            "La société d'électricité évoque des travaux sur une ligne de haute tension et "
            "promet un retour à la normale dans dix jours.",
        ),
    ),
    Story(
        title="Yamoussoukro : un tournoi de football féminin réunit douze équipes",
        author="Aya Traoré", edition="ci", published="2025-03-09 18:20",
        categories=("Sport",),
        paragraphs=(
            "Pendant trois jours, le stade municipal de Yamoussoukro a accueilli douze "
            "équipes féminines venues de tout le pays. La finale, remportée aux tirs au but "
            "par les joueuses de Daloa, s'est jouée devant plus de deux mille spectateurs.",
            "Les organisatrices veulent faire du tournoi un rendez-vous annuel et un lieu "
            "de repérage pour les sélections nationales. «\u00a0Les filles jouent sur des "
            "terrains en terre, sans vestiaires. Ici, elles ont été traitées comme des "
            "professionnelles\u00a0», souligne l'entraîneuse Salimata Koné.",
            "Deux joueuses ont été invitées à un stage de détection de la fédération le "
            "mois prochain.",
        ),
    ),
    Story(
        title="Bafoussam : les vendeurs du marché A refusent leur déplacement",
        author="Célestin Fotso", edition="cm", published="2019-09-23 11:40",
        categories=("Politique", "Économie"),
        paragraphs=(
            "Les commerçants du marché A de Bafoussam ont manifesté lundi devant la "
            "communauté urbaine contre leur transfert vers un nouveau site, à huit "
            "kilomètres du centre-ville. Ils estiment que leurs clients ne les suivront pas.",
            "Les autorités municipales veulent reconstruire le marché, jugé vétuste et "
            "dangereux. Le délégué du gouvernement a assuré que les commerçants "
            "retrouveraient leurs places dans deux ans, à des loyers inchangés.",
            "Une réunion de conciliation est prévue jeudi avec les représentants des "
            "commerçants et les chefs de quartier.",
        ),
    ),
    Story(
        title="Dakar : le BRT transforme le trajet des banlieusards",
        author="Sophie Diop", edition="sn", published="2024-06-11 07:30",
        categories=("Société", "Économie"),
        paragraphs=(
            "Six mois après sa mise en service, le bus rapide sur voie réservée relie "
            "Guédiawaye au centre de Dakar en moins de quarante-cinq minutes aux heures de "
            "pointe. Beaucoup d'usagers mettaient auparavant près de deux heures.",
            "«\u00a0Je dors une heure de plus le matin\u00a0», sourit Rokhaya Sy, infirmière à "
            "l'hôpital Principal. Les cars rapides et les taxis clandos, eux, ont perdu une "
            "partie de leur clientèle sur l'axe.",
            "Les usagers réclament des abris plus grands dans les stations et davantage de "
            "bus le soir après 21 heures.",
        ),
    ),
    Story(
        title="Man : les jeunes de la région se forment aux métiers du numérique",
        author="Désiré Gbagbo", edition="ci", published="2022-02-15 14:00",
        categories=("Éducation", "Économie"),
        paragraphs=(
            "Un centre de formation ouvert dans les locaux de la bibliothèque municipale de "
            "Man accueille depuis janvier quarante jeunes, sélectionnés parmi plus de six "
            "cents candidats. Au programme : développement web, maintenance informatique et "
            "gestion des réseaux sociaux.",
            "La formation dure six mois et se termine par un stage dans une entreprise "
            "d'Abidjan ou de la région. «\u00a0Je veux créer des sites pour les commerçants "
            "d'ici\u00a0», explique Mariam Doumbia, 22 ans.",
            "Le principal obstacle reste la connexion : les coupures du réseau obligent "
            "souvent les formateurs à travailler hors ligne.",
        ),
    ),
    Story(
        title="Maroua : le retour des déplacés dans les villages du Mayo-Tsanaga",
        author="Oumou Bello", edition="cm", published="2020-12-03 09:00",
        categories=("Société", "Politique"),
        paragraphs=(
            "Après plusieurs années passées dans les camps de Mokolo, des centaines de "
            "familles sont revenues dans leurs villages du Mayo-Tsanaga. Elles trouvent des "
            "maisons à reconstruire, des puits à curer et des champs envahis par les "
            "herbes.",
            "Les organisations humanitaires distribuent des semences et des outils, mais "
            "les habitants demandent surtout la réouverture des écoles et du centre de "
            "santé. «\u00a0Les enfants ont perdu trois années\u00a0», regrette un chef de village.",
            "Les autorités administratives assurent que la présence des forces de sécurité "
            "sera renforcée pendant la saison des récoltes.",
        ),
    ),
    Story(
        title="Joal-Fadiouth : le festival des arts du fleuve fait le plein",
        author="Marie-Thérèse Faye", edition="sn", published="2017-12-18 20:00",
        categories=("Culture",),
        paragraphs=(
            "Pendant quatre soirées, l'île aux coquillages de Fadiouth a vibré au son des "
            "sabars, des chorales et des griots. Le festival, organisé par une association "
            "de jeunes de la commune, a attiré des visiteurs de Mbour, de Dakar et même de "
            "Banjul.",
            "Les lutteurs du village ont ouvert la dernière soirée par une démonstration de "
            "lutte traditionnelle. «\u00a0Nous voulons que les jeunes connaissent leur culture "
            "avant de partir\u00a0», explique l'organisateur Joseph Diouf.",
            "Une partie des recettes servira à réparer le pont de bois qui relie l'île au "
            "continent.",
        ),
    ),
    Story(
        title="Abidjan : les habitants de Gesco dénoncent les odeurs de la décharge sauvage",
        author="Adjoua Kouamé", edition="ci", published="2021-09-28 17:15",
        categories=("Environnement", "Santé"),
        paragraphs=(
            "À Gesco, dans la commune de Yopougon, une décharge sauvage grossit depuis "
            "l'arrêt de la collecte des ordures au début de l'été. Les riverains se "
            "plaignent d'odeurs insupportables et de fumées la nuit, quand les déchets sont "
            "brûlés.",
            "«\u00a0Mes enfants toussent tous les matins\u00a0», témoigne Awa Ouattara, mère de "
            "trois enfants. Le centre de santé du quartier constate une hausse des consultations "
            "pour des affections respiratoires.",
            "La mairie assure qu'un nouveau prestataire commencera la collecte le mois "
            "prochain et que le site sera nettoyé.",
        ),
    ),
    Story(
        title="Douala : le carnaval de rue de Bonabéri célèbre la culture sawa",
        author="Jean-Pierre Mbarga", edition="cm", published="2016-12-10 18:30",
        categories=("Culture",),
        paragraphs=(
            "Pirogues décorées, danses traditionnelles et fanfares : le carnaval de "
            "Bonabéri a rassemblé des milliers de personnes sur les rives du Wouri. Les "
            "associations de quartier ont rivalisé de costumes pendant tout l'après-midi.",
            "Les anciens ont rappelé la place du fleuve dans l'histoire des Sawa, tandis "
            "que les plus jeunes ont présenté des chorégraphies mêlant makossa et danses "
            "urbaines.",
            "Les organisateurs espèrent que la fête sera inscrite au calendrier culturel "
            "officiel de la ville.",
        ),
    ),
    Story(
        title="Tambacounda : des orpailleurs clandestins chassés de la réserve du Niokolo-Koba",
        author="Ibrahima Camara", edition="sn", published="2023-07-19 12:00",
        categories=("Environnement", "Faits divers"),
        paragraphs=(
            "Une opération conjointe des agents des parcs nationaux et de la gendarmerie a "
            "permis de démanteler trois sites d'orpaillage clandestin à l'intérieur du parc "
            "du Niokolo-Koba. Une cinquantaine de personnes ont été interpellées.",
            "Les agents ont saisi des détecteurs de métaux, des motopompes et des bidons de "
            "mercure, utilisé pour séparer l'or et qui contamine la Gambie et ses affluents. "
            "«\u00a0Les rivières du parc sont en danger\u00a0», alerte le conservateur.",
            "Les populations riveraines demandent des alternatives économiques pour les "
            "jeunes qui partent vers les mines.",
        ),
    ),
    Story(
        title="Bouaké : l'université reprend les cours après deux mois de grève",
        author="Kouassi Yao", edition="ci", published="2016-04-05 10:10",
        categories=("Éducation",),
        paragraphs=(
            "Les amphithéâtres de l'université de Bouaké se sont remplis à nouveau lundi, "
            "après deux mois d'arrêt des cours. Les enseignants-chercheurs ont suspendu "
            "leur mouvement après un accord sur le paiement de leurs primes de recherche.",
            "Les étudiants craignent désormais un calendrier trop serré. «\u00a0On va faire un "
            "semestre en six semaines\u00a0», s'inquiète Joël Konaté, en licence de droit.",
            "La présidence de l'université promet un calendrier aménagé et des sessions "
            "d'examens décalées jusqu'en septembre.",
        ),
    ),
    Story(
        title="Ngaoundéré : la ligne de chemin de fer reste le seul lien pour les éleveurs",
        author="Célestin Fotso", edition="cm", published="2018-08-30 08:50",
        categories=("Économie",),
        paragraphs=(
            "Chaque semaine, des centaines de bœufs quittent Ngaoundéré par le train pour "
            "les marchés de Yaoundé. Pour les éleveurs de l'Adamaoua, la voie ferrée reste "
            "le moyen le plus sûr d'acheminer leurs bêtes vers le sud.",
            "Les retards se multiplient pourtant, faute de wagons en bon état. «\u00a0Un jour "
            "de retard, c'est du poids perdu pour les bêtes et de l'argent perdu pour "
            "nous\u00a0», explique l'éleveur Hamadou Bouba.",
            "La société ferroviaire annonce la livraison de nouveaux wagons à bestiaux "
            "avant la fin de l'année.",
        ),
    ),
    Story(
        title="Mbour : des pirogues pour l'Espagne, le désarroi des familles",
        author="Aïssatou N'Diaye", edition="sn", published="2023-10-30 21:00",
        categories=("Société", "International"),
        paragraphs=(
            "Dans le quartier de Tefess, à Mbour, presque chaque famille connaît un jeune "
            "parti en pirogue vers les îles Canaries. Ces dernières semaines, plusieurs "
            "embarcations ont quitté la côte de nuit, avec à leur bord des pêcheurs, des "
            "élèves et des apprentis.",
            "Les mères attendent des nouvelles au téléphone pendant des jours. «\u00a0Mon fils "
            "ne m'a rien dit. J'ai appris son départ par un voisin\u00a0», raconte Penda Sène, "
            "dont le fils de dix-neuf ans est arrivé à Tenerife après huit jours de mer.",
            "Les associations locales demandent des emplois pour les jeunes et la "
            "protection des zones de pêche, dont la raréfaction pousse beaucoup au départ.",
        ),
    ),
    Story(
        title="Dakar : après Yopougon, la coupure d'eau inquiète aussi les Parcelles",
        author="Moussa Diop", edition="sn", published="2023-03-04 09:30",
        categories=("Société",),
        paragraphs=(
            *_WATER_NOTICE,
            "À Dakar, les habitants des Parcelles Assainies, qui subissent des baisses de "
            "pression depuis un mois, craignent une situation comparable pendant la "
            "Tabaski et demandent un calendrier clair des travaux.",
        ),
    ),
    Story(
        title="Sénégal : le porte-parole du gouvernement annonce une baisse du prix du riz",
        author="Sophie Diop", edition="sn", published="2024-06-20 13:00",
        categories=("Politique", "Économie"),
        paragraphs=(
            "Le porte-parole du gouvernement a annoncé mercredi, à l'issue du conseil des "
            "ministres, une baisse du prix du riz brisé ordinaire, de l'huile et du sucre. "
            "Les nouveaux prix doivent s'appliquer dans toutes les boutiques à partir de "
            "lundi.",
            "Les associations de consommateurs saluent la décision mais demandent des "
            "contrôles. «\u00a0Une baisse annoncée à la télévision n'est pas une baisse dans le "
            "quartier\u00a0», rappelle l'une de leurs responsables.",
            "Les commerçants, eux, demandent un délai pour écouler les stocks achetés aux "
            "anciens prix.",
        ),
    ),
    Story(
        title="Bertoua : les chercheurs d'or de l'Est dans l'attente d'un encadrement",
        author="Geneviève Essomba", edition="cm", published="2025-01-22 10:30",
        categories=("Économie", "Environnement"),
        paragraphs=(
            "Autour de Bétaré-Oya, des milliers de personnes vivent de l'orpaillage "
            "artisanal. Les puits abandonnés, parfois profonds de plus de dix mètres, se "
            "remplissent d'eau à la saison des pluies et provoquent chaque année des "
            "accidents.",
            "Les chefs de village demandent que les sociétés semi-mécanisées rebouchent les "
            "trous après leur passage, comme la loi les y oblige. «\u00a0Nos enfants tombent "
            "dans ces fosses\u00a0», dénonce un notable de Mali, village de l'arrondissement.",
            "Le ministère des Mines annonce une mission d'inspection et la suspension des "
            "permis des exploitants qui ne respectent pas leurs obligations.",
        ),
    ),
    Story(
        title="Grand-Bassam : la plage rouverte après des travaux contre l'érosion",
        author="Aya Traoré", edition="ci", published="2025-07-12 11:00",
        categories=("Environnement", "Culture"),
        paragraphs=(
            "Fermée pendant huit mois, la plage du quartier France de Grand-Bassam a rouvert "
            "samedi. Des épis de roche ont été construits pour freiner l'érosion qui "
            "menaçait les maisons coloniales classées au patrimoine mondial.",
            "Les restaurateurs et les vendeurs d'objets d'art espèrent le retour rapide des "
            "visiteurs du week-end. «\u00a0Nous avons tenu grâce aux clients fidèles\u00a0», dit "
            "Marcel Aké, qui tient un maquis face à la mer.",
            "Les plongeurs sauveteurs rappellent que la baignade reste dangereuse en raison "
            "des courants, même par beau temps.",
        ),
    ),
    Story(
        title="Rufisque : la cimenterie accusée de polluer les quartiers voisins",
        author="Babacar Niang", edition="sn", published="2025-09-03 16:45",
        categories=("Environnement", "Santé"),
        paragraphs=(
            "Les habitants de plusieurs quartiers de Rufisque dénoncent la poussière grise "
            "qui recouvre leurs toits, leurs cours et leurs légumes. Ils l'attribuent à la "
            "cimenterie voisine, dont la production a augmenté cette année.",
            "Un collectif de riverains a remis une pétition de 3 000 signatures au préfet. "
            "«\u00a0Nous ne demandons pas la fermeture, nous demandons des filtres\u00a0», "
            "explique son porte-parole, Saliou Thiam.",
            "L'entreprise affirme respecter les normes et annonce l'installation de "
            "nouveaux dépoussiéreurs d'ici la fin de l'année.",
        ),
    ),
)
"""The stories in the order the replica numbers them (article 0 is the first story)."""

STORY_AUTHORS: tuple[str, ...] = tuple(dict.fromkeys(story.author for story in STORIES))
"""The stories' bylines, each once, in order of first appearance (their WordPress accounts)."""
