"""Common given names, used to recognise a person named in a postmortem.

Built from public facts: the most frequent given names in the US Social Security
Administration and England & Wales (ONS) baby-name tables, plus common given names
from other languages represented in international teams. Left out on purpose: names
that are also everyday English words or months (Will, May, Grace, Hope, Page, Chase),
programming languages and tools (Ruby, Julia, Ada, Crystal, Hugo) and AI model or
assistant names (Aurora, Claude, Gemma, Alexa, Siri, Aria, Leo), which appear as the
subject of sentences about systems. Pass ``known_names`` to the linter for anyone else.
"""

from __future__ import annotations

_NAMES = """
    Aaron Abdul Abigail Adam Aditya Adrian Adriana Agnieszka Ahmed Aisha Alan Albert Alejandro
    Alessandro Alex Alexander Alexei Alexis Alfie Ali Alice Alicia Alison Allison Amanda Amara
    Amelia Amir Amit Amy Ana Ananya Anders Andre Andrea Andrei Andres Andrew Andy Angela Anil
    Anita Anja Ann Anna Anne Anthony Antoine Antonio Arash Archie Ari Arjun Arthur Arun Asher
    Ashley Astrid Austin Ava Avery Ayesha Ayse Barbara Beatriz Ben Benjamin Beth Bethany Betty
    Beverly Bilal Billy Bob Bobby Bradley Brandon Brenda Brian Brittany Bruce Bruno Bryan Burak
    Caleb Callum Camila Carl Carlos Carmen Carol Caroline Carolyn Casey Cassandra Catherine Cem
    Charles Charlie Charlotte Cheryl Chiamaka Chiara Chinedu Chloe Chris Christian Christina
    Christine Christopher Claire Clara Connor Craig Cynthia Cyrus Dafydd Dan Dana Daniel Daniela
    Danielle Darius Darnell Dave David Dean Deborah Debra Declan Deepa Denise Dennis Derek Diana
    Diane Diego Dmitri Dmitry Dominic Donald Donna Dorothy Douglas Dylan Eduardo Edward Eleanor
    Elena Eli Elif Elijah Elizabeth Ella Ellie Elliot Ellis Emeka Emerson Emilia Emily Emma Emre
    Eric Erik Ethan Eugene Eva Evelyn Ewa Ewan Ezra Fang Farid Fatima Felipe Felix Femi Femke
    Fernando Finley Fiona Florian Frances Francesca Francesco Francisco Frank Frankie Fraser
    Fred Freddie Freja Freya Gabriel Gabriela Gareth Gary Gavin George Gerald Gideon Giovanni
    Giulia Glen Gloria Gordon Graham Greg Gregory Greta Gustavo Hamish Hamza Hana Hannah Hans
    Hao Harley Harold Harper Harriet Harry Haruto Hassan Hayden Heather Heidi Helen Henry Hiba
    Hiroshi Howard Hui Hussein Iain Ian Ibrahim Imani Imogen Imran Ines Ingrid Irina Isaac
    Isabel Isabella Isla Ivan Jack Jacob Jacqueline Jacques Jake Jakub James Jamie Jane Janet
    Janice Jasmine Jason Javier Jean Jeff Jeffrey Jenna Jennifer Jenny Jeremy Jerry Jesse
    Jessica Jessie Jian Jim Joan Joanna Joao Jody Joe Joel Johan John Jomo Jon Jonah Jonas
    Jonathan Jordan Jorge Jose Joseph Josh Joshua Joyce Juan Judith Judy Jules Julian Julie
    Julien Jun Jurgen Justin Kai Karen Karim Karl Karthik Katarina Kate Katherine Kathleen
    Kathryn Katie Kaveh Kavya Kayla Keisha Keith Kelly Kemal Ken Kendall Kenji Kenneth Kenny
    Kerry Kevin Khalid Kieran Kim Kimberly Kirsty Klaus Kofi Kris Krzysztof Kurt Kwame Kyle
    Lakshmi Larry Lars Latoya Laura Lauren Lawrence Layla Leah Leanne Lee Lei Leila Lena Leon
    Leslie Levi Lewis Leyla Liam Lily Linda Linh Lisa Lloyd Logan Lorenzo Lori Lotte Louis
    Louise Luca Lucas Lucia Lucy Luis Lukas Luke Lydia Madison Magnus Maisie Malik Manuel Marco
    Marcus Margaret Maria Mariam Mariana Marie Mark Marley Marta Martha Martin Marvin Mary Mason
    Mateo Mathieu Matilda Matt Matteo Matthew Maximilian Maya Meera Megan Mehmet Mei Melissa Mia
    Micah Michael Michelle Miguel Mike Mikhail Mila Ming Mitchell Mohamed Mohammed Molly Morgan
    Muhammad Mustafa Nadia Nancy Naomi Natalie Natasha Nate Nathan Nathaniel Neha Neil Ngozi Nia
    Niall Niamh Nicholas Nick Nicolas Nicole Nigel Nils Nina Noah Noel Noor Nora Norman Oguz
    Olga Oliver Olivia Oluwaseun Omar Ondrej Orla Oscar Owen Pablo Pamela Patricia Patrick Paul
    Paula Pavel Pedro Penelope Pete Peter Peyton Phil Philip Phoebe Pierre Piotr Pooja Priya
    Priyanka Quentin Quinn Rachel Rafael Rahul Raj Ralph Ramesh Randy Ravi Raymond Rebecca Reese
    Reginald Rekha Remy Reza Rhys Ricardo Richard Rick Riley Rita Rob Robert Robin Rodney
    Rodrigo Roger Rohan Roland Ron Ronald Rory Rosa Rosie Ross Rowan Roy Russell Ruth Ryan
    Sakura Sally Salma Sam Samantha Samuel Sandra Sanjay Sanne Santiago Sara Sarah Sasha
    Scarlett Scott Sean Sebastian Sergei Sergio Shane Sharon Shawn Shirley Sidney Sigrid Silas
    Simon Siobhan Sipho Skyler Sofia Sonia Sophia Sophie Sota Spencer Stefan Stella Stephanie
    Stephen Steve Steven Stuart Sunita Suresh Susan Sven Svetlana Takeshi Tanisha Tao Tara Tariq
    Tatiana Taylor Ted Tendai Teresa Terry Thao Themba Theo Theresa Thiago Thomas Tim Timothy
    Tina Tobias Toby Tom Tomasz Toni Tony Trevor Troy Tunde Tyler Tyrone Valentina Vanessa Vera
    Victor Victoria Vijay Vikram Vincent Violet Virginia Vladimir Walter Wanjiru Warren Wayne
    Wei Wendy Wesley William Willie Xavier Xin Yael Yasmin Ying Yong Yosef Yuki Yusuf Yuto
    Yvonne Zach Zachary Zainab Zara Zeynep Zoe Zuzana
"""

FIRST_NAMES: frozenset[str] = frozenset(_NAMES.split())
