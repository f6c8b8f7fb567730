"""Small Spanish and German lexicons for the foreign-language pages of the TinyWorld crawl.

A real web crawl is multilingual, so a curation pipeline needs a language-ID step. The crawl
(`crawl.py`) mixes in whole documents written in Spanish ("es") or German ("de"), produced here
from hand-written sentence templates with slots for TinyWorld names, foods, colours and places.

The templates avoid words that are also English function words ("a", "no", "me", "in", "was",
"so", "will", ...), so that a stop-word language identifier has a fair, well-defined task: a
foreign page contains TinyWorld names but no English grammar words.

    >>> import random
    >>> text = foreign_document(random.Random(0), "de", people=["Velora"], places=["Brenno"])
    >>> "Brenno" in text or "Velora" in text
    True
"""

from __future__ import annotations

import random

FOREIGN_LANGUAGES = ("es", "de")


def _entries(text: str) -> tuple[str, ...]:
    """Split a comma-separated list (entries may contain spaces)."""
    return tuple(entry.strip() for entry in text.split(",") if entry.strip())


# Slot fillers: {person} and {place} come from the world; the rest are lexicon words.
LEXICON: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "food": _entries("""pan de miel, sopa de pescado, tarta de manzana, queso fresco,
            pastel de ciruela, arroz con leche, galletas de avena, guiso de setas,
            empanadas de queso, tortilla de patatas, pan de nueces, mermelada de pera, churros"""),
        "colour": _entries("rojo, azul, verde, amarillo, negro, blanco, gris, morado"),
        "spot": _entries("""el mercado, el puerto, el viejo molino, el jardín, el castillo,
            el río, el bosque, el faro, el puente de piedra, la plaza mayor, la biblioteca,
            la torre del reloj, la playa, la escuela"""),
        "job": _entries("""panadero, pescador, maestro, médico, carpintero, pintor, cocinero,
            jardinero, herrero, marinero, bibliotecario, relojero"""),
        "animal": _entries("perro, gato, caballo, burro, loro, conejo, pato, ratón"),
        "season": _entries("el invierno, el verano, el otoño, la primavera"),
    },
    "de": {
        "food": _entries("""Honigkuchen, Fischsuppe, Apfelkuchen, Käsebrot, Pflaumenknödel,
            Milchreis, Haferkekse, Pilzeintopf, Kartoffelpuffer, Nussbrot, Birnenmarmelade,
            Zwiebelkuchen, Linsensuppe"""),
        "colour": _entries("roten, blauen, grünen, gelben, schwarzen, weißen, grauen"),
        "spot": _entries("""dem Markt, dem Hafen, der alten Mühle, dem Garten, der Burg,
            dem Fluss, dem Wald, dem Leuchtturm, der Steinbrücke, dem Rathaus, der Bibliothek,
            dem Uhrturm, dem Strand, der Schule"""),
        "job": _entries("""Bäcker, Fischer, Lehrer, Arzt, Tischler, Maler, Koch, Gärtner, Schmied,
            Seemann, Bibliothekar, Uhrmacher"""),
        "animal": _entries("Hund, Kater, Esel, Papagei, Hase, Igel, Fuchs, Dackel"),
        "season": _entries("Winter, Sommer, Herbst, Frühling"),
    },
}

TEMPLATES: dict[str, tuple[str, ...]] = {
    "es": (
        "{person} vive cerca de {spot} de {place} con su familia.",
        "Cada mañana, {person} camina hasta {spot} y compra {food}.",
        "En {place} hace mucho frío durante {season}.",
        "Los niños de {place} juegan junto al río después de la escuela.",
        "El {job} de {place} prepara {food} todos los domingos.",
        "Nadie sabe por qué {person} siempre lleva un sombrero {colour}.",
        "Según los vecinos, {spot} de {place} tiene muchos siglos.",
        "{person} dice que en {place} se come el mejor {food} del país.",
        "Por la noche, las calles de {place} están llenas de música.",
        "Mi hermana visitó {place} hace dos años y quedó encantada.",
        "¿Conoces {spot} de {place}?",
        "{person} trabaja como {job} desde hace muchos años.",
        "El {animal} de {person} duerme cada tarde bajo un árbol.",
        "Dicen que {person} encontró un mapa antiguo cerca de {spot}.",
        "Durante {season}, muchos turistas llegan al puerto de {place}.",
        "La abuela de {person} cuenta historias sobre {place} junto al fuego.",
        "Ayer llovió tanto que nadie salió de casa en {place}.",
        "{person} quiere ser {job} cuando sea mayor.",
        "Para la fiesta, {person} pintó su casa de color {colour}.",
        "Desde {spot} se ve todo el valle de {place}.",
        "Los mercaderes de {place} venden {food} y telas de colores.",
        "Cuando {person} era niño, tenía un {animal} muy travieso.",
    ),
    "de": (
        "{person} wohnt mit der Familie nahe {spot} von {place}.",
        "Jeden Morgen geht {person} zu {spot} und kauft {food}.",
        "Im {season} ist es auf den Straßen von {place} sehr kalt.",
        "Die Kinder von {place} spielen nach der Schule beim Fluss.",
        "Der {job} von {place} backt jeden Sonntag {food}.",
        "Niemand weiß, warum {person} immer einen {colour} Hut trägt.",
        "Laut den Nachbarn ist die Brücke von {place} sehr alt.",
        "{person} sagt, dass es nirgendwo besseren {food} gibt als bei uns.",
        "Abends sind die Gassen von {place} voller Musik und Lachen.",
        "Meine Schwester hat {place} im letzten {season} besucht.",
        "Kennst du schon den Leuchtturm von {place}?",
        "{person} arbeitet seit vielen Jahren als {job}.",
        "Der {animal} von {person} schläft jeden Nachmittag unter einem Baum.",
        "Man erzählt, dass {person} bei {spot} eine alte Karte gefunden hat.",
        "Im {season} kommen viele Reisende mit dem Schiff nach {place}.",
        "Die Großmutter von {person} erzählt beim Feuer Geschichten über {place}.",
        "Gestern hat es stark geregnet, deshalb blieb {person} zu Hause.",
        "{person} möchte später einmal {job} werden.",
        "Für das Fest hat {person} das Haus mit {colour} Fahnen geschmückt.",
        "Von {spot} aus sieht man das ganze Tal von {place}.",
        "Die Händler von {place} verkaufen {food} und bunte Stoffe.",
        "Als Kind hatte {person} einen sehr frechen {animal}.",
    ),
}


def foreign_sentence(
    rng: random.Random, language: str, people: list[str], places: list[str]
) -> str:
    """One sentence in `language` with its slots filled from the lexicon and the given names."""
    lexicon = LEXICON[language]
    template = rng.choice(TEMPLATES[language])
    slots = {slot: rng.choice(words) for slot, words in lexicon.items()}
    slots["person"] = rng.choice(people)
    slots["place"] = rng.choice(places)
    sentence = template.format(**slots)
    return sentence[0].upper() + sentence[1:]


def foreign_document(
    rng: random.Random, language: str, people: list[str], places: list[str]
) -> str:
    """A whole document in `language`: 2-4 paragraphs (one per line) of 2-5 sentences each."""
    if language not in FOREIGN_LANGUAGES:
        raise ValueError(f"unknown foreign language {language!r}; use one of {FOREIGN_LANGUAGES}")
    if not people or not places:
        raise ValueError("foreign_document needs at least one person name and one place name")
    paragraphs = []
    for _ in range(rng.randint(2, 4)):
        sentences = [
            foreign_sentence(rng, language, people, places) for _ in range(rng.randint(2, 5))
        ]
        paragraphs.append(" ".join(sentences))
    return "\n".join(paragraphs)
